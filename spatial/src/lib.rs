//! `atrium-spatial`: the virtual-room simulation.
//!
//! It will own the bevy_ecs world of rooms and avatars, the fixed-rate tick schedule, interest
//! management and the Web Audio distance/cone gain model. It has no networking: the actors feed it
//! inputs and ship its per-client outputs. Nothing is implemented yet; the virtual-rooms issue
//! brings it.
