//! `GET /me`: the caller's profile, created from the token's claims (`email`, `name`) on first use.

use apigw::{HttpEvent, HttpResponse, Reply, caller, respond};
use domain::{
    ports::{ProfileGet, ProfilePut},
    service,
};

pub async fn handle<S: ProfileGet + ProfilePut>(store: &S, event: HttpEvent) -> HttpResponse {
    respond(
        async {
            let caller = caller(&event)?;
            let profile = service::get_profile(store, &caller, domain::now()).await?;
            Reply::versioned(&profile, profile.version)
        }
        .await,
    )
}
