//! Serving the stack: takes a bound listener and a shutdown future (as mini-redis does), so tests start the real
//! server in-process on port 0 and stop it cleanly.

use crate::{gateway, stack::Stack};
use std::{future::Future, net::SocketAddr, sync::Arc};
use tokio::net::TcpListener;

pub async fn run(listener: TcpListener, stack: Arc<Stack>, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let app = gateway::router(stack);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await
}
