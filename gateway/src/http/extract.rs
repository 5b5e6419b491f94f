//! axum's extractors, re-dressed so that their rejections use our error shape.

use axum::extract::FromRequest;
use axum::extract::FromRequestParts;

use super::error::ApiError;

/// A JSON request body. Malformed JSON, wrong types, a missing content type or an oversized body
/// become `ApiError`s with clear messages instead of axum's plain-text defaults.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct JsonBody<T>(pub T);

/// Query-string parameters.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct QueryParams<T>(pub T);

/// Path parameters (ids that are not UUIDs are rejected with `400 invalid`).
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct PathParams<T>(pub T);
