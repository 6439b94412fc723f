//! The HTTP edge of the task functions, for API Gateway HTTP APIs (payload format 2.0).
//!
//! - [`request`]: reads what a handler needs from the event — the caller (from the JWT authorizer's claims), the
//!   JSON body (size-capped, base64-aware), path and query parameters, headers. Every failure is a domain
//!   [`Error`](domain::Error) with a message a client can act on.
//! - [`response`]: builds the v2 response, and maps every domain error to its HTTP status. This is the only place
//!   statuses are chosen; internal causes are logged with the request id and never sent to the client.
//!
//! The local stack builds the same events AWS sends and calls the same handlers, so this crate is the edge in both.

pub mod request;
pub mod response;

pub use aws_lambda_events::apigw::{ApiGatewayV2httpRequest as HttpEvent, ApiGatewayV2httpResponse as HttpResponse};
pub use request::{caller, header, json_body, path_param, query};
pub use response::{Reply, respond};
