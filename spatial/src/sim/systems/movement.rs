//! Integration: avatars keep moving with their last accepted velocity between inputs (dead
//! reckoning at a fixed timestep), staying inside their room. Seated avatars stay put.

use bevy_ecs::system::{Query, Res};

use crate::sim::components::{Avatar, Position, Seat, Velocity};
use crate::sim::parallel::batching;
use crate::sim::resources::Settings;

pub(crate) fn integrate(
    settings: Res<Settings>,
    mut avatars: Query<(&Avatar, &mut Position, &Velocity, &Seat)>,
) {
    let dt = settings.0.tick_seconds();
    avatars
        .par_iter_mut()
        .batching_strategy(batching())
        .for_each(|(avatar, mut position, velocity, seat)| {
            if seat.0.is_none() && velocity.0 != glam::Vec3::ZERO {
                position.0 = avatar.template.bounds.clamp(position.0 + velocity.0 * dt);
            }
        });
}
