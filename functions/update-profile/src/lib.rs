//! `PUT /me`: updates `display_name` and `email` (null clears it) of the caller's profile.

use apigw::{HttpEvent, HttpResponse, Reply, caller, json_body, respond};
use domain::{
    ports::{ProfileGet, ProfilePut, ProfileUpdate},
    service,
};

pub async fn handle<S: ProfileGet + ProfilePut + ProfileUpdate>(store: &S, event: HttpEvent) -> HttpResponse {
    respond(
        async {
            let caller = caller(&event)?;
            let body = json_body(&event)?;
            let profile = service::update_profile(store, &caller, &body, domain::now()).await?;
            Reply::versioned(&profile, profile.version)
        }
        .await,
    )
}
