//! apigw (being built).
