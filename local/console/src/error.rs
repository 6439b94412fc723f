//! Why a page could not be shown, and the one place that turns it into an HTTP status. A handler returns
//! [`PageError`]; its response carries an [`ErrorPage`] extension that the router's last layer renders inside the
//! layout (which needs the source's label, which an error alone does not have).

use crate::source::SourceError;
use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// The source could not answer (its kind says why).
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The request itself is wrong: a bad query value, a missing form field.
    #[error("{0}")]
    BadRequest(String),
    /// A cross-site POST: the console can stop executions, so only its own pages may post.
    #[error("{0}")]
    Forbidden(String),
    /// No such page.
    #[error("{0}")]
    NotFound(String),
}

impl PageError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Source(SourceError::NotFound(_)) | Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Source(SourceError::Invalid(_)) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Source(SourceError::Unsupported(_)) => StatusCode::NOT_IMPLEMENTED,
            Self::Source(SourceError::Unavailable(_)) => StatusCode::BAD_GATEWAY,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
        }
    }
}

/// What the layout layer renders: the status's reason and the message.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    pub status: StatusCode,
    pub message: String,
}

impl ErrorPage {
    pub fn body(&self) -> String {
        format!(
            "<section id=\"error\" class=\"error-page\" data-status=\"{}\"><p id=\"error-message\">{}</p>\
             <p><a href=\"{}/\">Back to executions</a></p></section>",
            self.status.as_u16(),
            crate::html::esc(&self.message),
            crate::html::BASE,
        )
    }

    pub fn title(&self) -> String {
        format!("{} {}", self.status.as_u16(), self.status.canonical_reason().unwrap_or("Error"))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage { status: self.status(), message: self.to_string() };
        // A bare page in case the layout layer is not there (the router always adds it).
        let bare = crate::html::layout_with("", false, crate::html::Nav::None, &page.title(), &page.body());
        let mut response = (page.status, Html(bare)).into_response();
        response.extensions_mut().insert(page);
        response
    }
}
