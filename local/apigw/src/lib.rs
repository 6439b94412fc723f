//! API Gateway (HTTP API) in the local stack.
//!
//! - [`routes`] reads the template's routes (each function's `HttpApi` events) and the API's JWT authorizer, and
//!   matches requests to routes as API Gateway does;
//! - [`auth`] is the local identity provider: it issues Cognito-shaped tokens (`local token`) and verifies them
//!   as the JWT authorizer does;
//! - [`gateway`] serves a request: route, authorize, build the payload-2.0 event, invoke the route's function
//!   through the [`FunctionInvoker`] the composition root hands it, and turn the answer back into HTTP;
//! - [`openapi`] serves the API's contract (`openapi.yaml` beside the template) at `GET /openapi.json`.

pub mod auth;
pub mod gateway;
pub mod openapi;
pub mod routes;

pub use auth::LocalIdp;
pub use gateway::HttpApi;
pub use routes::{Authorizer, Route, RouteError, RouteTable};

use local_core::invoke::FunctionInvoker;
