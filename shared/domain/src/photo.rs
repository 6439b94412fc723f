//! Profile photos: a user uploads one image straight to the bucket, it is resized into JPEG renditions, and their
//! profile points at the newest complete set.
//!
//! ```text
//! POST /me/photo ─▶ request-photo-upload: a presigned PUT to uploads/{user}/{upload id}  (service::request_upload)
//! client PUTs the bytes ─▶ S3 ObjectCreated on uploads/ ─▶ resize-photo                    (service::process_upload)
//!     renders thumbnail, medium, large ─▶ renditions/{user}/{upload id}/{name}.jpg; or records the failure
//! S3 ObjectCreated on renditions/ ─▶ record-photo: once all renditions exist, the profile  (service::record_renditions)
//!     points at the set, the set it replaced is deleted, PhotoProcessed goes on the bus
//! PhotoProcessed ─▶ notify-photo-processed: one mail per upload                            (service::notify_photo_ready)
//! GET /me ─▶ the photo's state, with presigned GET URLs made at read time                  (service::profile_with_photo)
//! ```
//!
//! This module holds the names: [`UploadId`] (a ULID, so uploads order by time and "newer" is a comparison),
//! [`UploadKey`] and [`RenditionKey`] (the object keys, parsed back from S3 events), [`PhotoContentType`] and
//! [`UploadSize`] (what may be uploaded), [`RenditionSpecs`] (which renditions, from `RENDITIONS`). [`state`] holds
//! what the profile stores and the ordering rule; [`service`] the operations the functions call.

pub mod service;
pub mod state;

pub use state::{Attempt, Failure, FailureCode, PhotoRecord, PhotoSet, PhotoState, PhotoView, RenditionSize};

use crate::object::{ContentType, ObjectKey};
use crate::{Error, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// The largest upload accepted: 20 MiB. It is signed into the presigned PUT (its `Content-Length`), so S3 itself
/// refuses anything else; the resizer checks it again before reading an image.
pub const MAX_UPLOAD_BYTES: u64 = 20 * 1024 * 1024;

/// Where uploads land: `uploads/{user}/{upload id}`. The resizer's S3 trigger filters on this prefix.
pub const UPLOADS_PREFIX: &str = "uploads/";

/// Where renditions are written: `renditions/{user}/{upload id}/{name}.jpg`. A separate prefix, so the resizer's
/// own writes never trigger it; `record-photo`'s trigger filters on this one.
pub const RENDITIONS_PREFIX: &str = "renditions/";

/// How long a presigned upload stays valid: five minutes, enough to start a 20 MiB PUT on a slow line.
pub const UPLOAD_URL_SECONDS: u64 = 300;

/// How long the GET URLs `GET /me` hands out stay valid. An hour: a client may cache the profile that long, and a
/// Lambda function's credentials (which sign them) outlive it.
pub const PHOTO_URL_SECONDS: u64 = 3600;

/// An upload's id: a ULID, made when the upload is requested, so a later upload has a larger id and "only a newer
/// upload replaces the photo" is a comparison. Canonical spelling: 26 upper-case Crockford base32 characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UploadId(ulid::Ulid);

impl UploadId {
    /// A fresh id for an upload requested at `at`.
    pub fn generate(at: Timestamp) -> Self {
        let ms = (at.unix_timestamp_nanos() / 1_000_000).max(0) as u64;
        Self(ulid::Ulid::from_parts(ms, rand::random::<u128>() & ((1u128 << 80) - 1)))
    }

    pub fn parse(raw: &str) -> Result<Self, Error> {
        let invalid = || Error::Invalid(format!("`{}` is not an upload id", clip(raw)));
        // As `TaskId::parse`: 26 characters, a first one of at most `7` (the decoder would drop the extra bits),
        // and the canonical spelling of what it decodes to.
        if raw.len() != 26 || raw.as_bytes()[0] > b'7' {
            return Err(invalid());
        }
        let id = ulid::Ulid::from_string(raw).map_err(|_| invalid())?;
        if id.to_string() != raw {
            return Err(invalid());
        }
        Ok(Self(id))
    }
}

impl fmt::Display for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for UploadId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for UploadId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// What may be uploaded: JPEG, PNG or WebP, named by its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoContentType {
    Jpeg,
    Png,
    Webp,
}

impl PhotoContentType {
    pub const ALL: [Self; 3] = [Self::Jpeg, Self::Png, Self::Webp];

    /// `image/jpeg`, `image/png` or `image/webp`, exactly (the string is signed into the upload, and the client
    /// must send it back unchanged).
    pub fn parse(raw: &str) -> Result<Self, Error> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw).ok_or_else(|| {
            Error::Invalid(format!(
                "`content_type` `{}` is not accepted; expected one of: image/jpeg, image/png, image/webp",
                clip(raw)
            ))
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }

    pub fn content_type(self) -> ContentType {
        ContentType::parse(self.as_str()).expect("the three image types are content types")
    }
}

/// The size an upload declares: 1 byte to [`MAX_UPLOAD_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UploadSize(u64);

impl UploadSize {
    pub fn new(bytes: u64) -> Result<Self, Error> {
        if bytes == 0 {
            return Err(Error::Invalid("`size` must be at least 1 byte".into()));
        }
        if bytes > MAX_UPLOAD_BYTES {
            return Err(Error::Invalid(format!(
                "`size` is {bytes} bytes; a photo may be at most {MAX_UPLOAD_BYTES} bytes (20 MiB)"
            )));
        }
        Ok(Self(bytes))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

/// A rendition's name: 1 to 32 lower-case letters, digits and `-`, starting with a letter or digit (`thumbnail`,
/// `medium`, `large`). It is part of an object key and of the `GET /me` answer, so it is kept plain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RenditionName(String);

impl RenditionName {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let ok = (1..=32).contains(&raw.len())
            && raw.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(Error::Invalid(format!(
                "`{}` is not a rendition name (1 to 32 of a-z, 0-9 and `-`, starting with a letter or digit)",
                clip(raw)
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RenditionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for RenditionName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RenditionName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// The longest edge a rendition may ask for, in pixels.
pub const LONG_EDGE_MAX: u32 = 8192;

/// One rendition to make: its name, and the length of its longer edge in pixels (the shorter one keeps the aspect
/// ratio; a smaller image is not enlarged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenditionSpec {
    pub name: RenditionName,
    pub long_edge: u32,
}

/// The renditions of every upload, in the order given: 1 to 10 of them, names unique. `resize-photo` makes them and
/// `record-photo` waits for all of them, so both must be given the same list (`RENDITIONS` in `template.yaml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenditionSpecs(Vec<RenditionSpec>);

impl RenditionSpecs {
    /// `thumbnail:200,medium:800,large:1600`: `name:long edge` pairs, comma-separated (spaces around them are
    /// ignored).
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let bad = |why: String| Error::Invalid(format!("`{}` is not a list of renditions: {why}", clip(raw)));
        let mut specs = Vec::new();
        let mut names = BTreeSet::new();
        for part in raw.split(',').map(str::trim) {
            let (name, edge) = part.split_once(':').ok_or_else(|| bad(format!("`{part}` is not `name:long edge`")))?;
            let name = RenditionName::parse(name.trim()).map_err(|e| bad(e.to_string()))?;
            let long_edge = edge
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|e| (1..=LONG_EDGE_MAX).contains(e))
                .ok_or_else(|| bad(format!("the long edge of `{name}` must be 1 to {LONG_EDGE_MAX} pixels")))?;
            if state::RESERVED_NAMES.contains(&name.as_str()) {
                return Err(bad(format!("`{name}` is a field of the photo's view; call the rendition otherwise")));
            }
            if !names.insert(name.clone()) {
                return Err(bad(format!("`{name}` is named twice")));
            }
            specs.push(RenditionSpec { name, long_edge });
        }
        if specs.len() > 10 {
            return Err(bad("at most 10 renditions".into()));
        }
        Ok(Self(specs))
    }

    /// `thumbnail:200,medium:800,large:1600`, what the issue asks for.
    pub fn standard() -> Self {
        Self::parse("thumbnail:200,medium:800,large:1600").expect("the standard renditions parse")
    }

    pub fn as_slice(&self) -> &[RenditionSpec] {
        &self.0
    }

    pub fn names(&self) -> impl Iterator<Item = &RenditionName> {
        self.0.iter().map(|s| &s.name)
    }
}

/// Where one upload lands: `uploads/{user}/{upload id}`. The user is the uploader, so the key alone says whose
/// profile the photo is for (the presigned PUT is only ever made for the caller's own prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadKey {
    pub owner: UserId,
    pub upload: UploadId,
}

impl UploadKey {
    /// Reads `uploads/{user}/{upload id}` (decoded, as [`decode_event_key`] gives it); anything else is `Invalid`.
    pub fn parse(key: &str) -> Result<Self, Error> {
        let bad = || Error::Invalid(format!("`{}` is not an upload key (uploads/{{user}}/{{upload id}})", clip(key)));
        let rest = key.strip_prefix(UPLOADS_PREFIX).ok_or_else(bad)?;
        let (owner, upload) = rest.split_once('/').ok_or_else(bad)?;
        Ok(Self {
            owner: UserId::parse(owner).map_err(|_| bad())?,
            upload: UploadId::parse(upload).map_err(|_| bad())?,
        })
    }

    pub fn key(&self) -> ObjectKey {
        ObjectKey::parse(&format!("{UPLOADS_PREFIX}{}/{}", self.owner, self.upload))
            .expect("a user id and an upload id make a key")
    }

    /// The key of this upload's rendition `name`.
    pub fn rendition(&self, name: &RenditionName) -> RenditionKey {
        RenditionKey { owner: self.owner.clone(), upload: self.upload, name: name.clone() }
    }
}

/// Where one rendition of one upload is written: `renditions/{user}/{upload id}/{name}.jpg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenditionKey {
    pub owner: UserId,
    pub upload: UploadId,
    pub name: RenditionName,
}

impl RenditionKey {
    /// Reads `renditions/{user}/{upload id}/{name}.jpg` (decoded); anything else is `Invalid`.
    pub fn parse(key: &str) -> Result<Self, Error> {
        let bad = || {
            Error::Invalid(format!(
                "`{}` is not a rendition key (renditions/{{user}}/{{upload id}}/{{name}}.jpg)",
                clip(key)
            ))
        };
        let rest = key.strip_prefix(RENDITIONS_PREFIX).ok_or_else(bad)?;
        let mut parts = rest.split('/');
        let (Some(owner), Some(upload), Some(file), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let name = file.strip_suffix(".jpg").ok_or_else(bad)?;
        Ok(Self {
            owner: UserId::parse(owner).map_err(|_| bad())?,
            upload: UploadId::parse(upload).map_err(|_| bad())?,
            name: RenditionName::parse(name).map_err(|_| bad())?,
        })
    }

    pub fn key(&self) -> ObjectKey {
        ObjectKey::parse(&format!("{RENDITIONS_PREFIX}{}/{}/{}.jpg", self.owner, self.upload, self.name))
            .expect("a user id, an upload id and a rendition name make a key")
    }

    /// The upload this rendition was made from.
    pub fn upload_key(&self) -> UploadKey {
        UploadKey { owner: self.owner.clone(), upload: self.upload }
    }
}

/// An object key as an S3 event notification carries it: URL-encoded as a form value (`+` for a space, `%XX` for
/// other bytes), decoded here. `Invalid` when the bytes it names are not UTF-8.
pub fn decode_event_key(raw: &str) -> Result<String, Error> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|key| key.into_owned())
        .map_err(|_| Error::Invalid(format!("the event's key `{}` does not decode to UTF-8", clip(raw))))
}

fn clip(raw: &str) -> String {
    raw.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALICE: &str = "4f9d2c1e-7b3a-4c8e-9a21-5d6e7f8a9b0c";
    const UPLOAD: &str = "01JDQ3V5R5T4Y2E7Q9M8N6B4C2";

    #[test]
    fn upload_ids_are_canonical_ulids_that_order_by_time() {
        assert_eq!(UploadId::parse(UPLOAD).unwrap().to_string(), UPLOAD);
        for bad in ["", "01jdq3v5r5t4y2e7q9m8n6b4c2", "81JDQ3V5R5T4Y2E7Q9M8N6B4C2", "01JDQ3V5R5T4Y2E7Q9M8N6B4C", "x"] {
            assert!(UploadId::parse(bad).is_err(), "{bad}");
        }
        let now = crate::now();
        let earlier = UploadId::generate(now - time::Duration::seconds(1));
        assert!(earlier < UploadId::generate(now));
    }

    #[test]
    fn only_jpeg_png_and_webp_up_to_20_mib_may_be_uploaded() {
        assert_eq!(PhotoContentType::parse("image/png").unwrap(), PhotoContentType::Png);
        for bad in ["image/gif", "IMAGE/JPEG", "image/jpeg; q=1", "text/plain", ""] {
            assert!(matches!(PhotoContentType::parse(bad), Err(Error::Invalid(_))), "{bad}");
        }
        assert!(UploadSize::new(MAX_UPLOAD_BYTES).is_ok());
        assert!(UploadSize::new(MAX_UPLOAD_BYTES + 1).is_err());
        assert!(UploadSize::new(0).is_err());
    }

    #[test]
    fn rendition_specs_parse_from_the_environment_form() {
        let specs = RenditionSpecs::parse(" thumbnail:200, medium:800,large:1600 ").unwrap();
        assert_eq!(specs, RenditionSpecs::standard());
        let edges: Vec<_> = specs.as_slice().iter().map(|s| (s.name.as_str(), s.long_edge)).collect();
        assert_eq!(edges, [("thumbnail", 200), ("medium", 800), ("large", 1600)]);
        for bad in ["", "thumbnail", "thumbnail:0", "a:1,a:2", "Big:100", "a:99999", "a:1,,b:2", "status:100"] {
            assert!(RenditionSpecs::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn upload_and_rendition_keys_round_trip_and_nothing_else_parses() {
        let upload = UploadKey::parse(&format!("uploads/{ALICE}/{UPLOAD}")).unwrap();
        assert_eq!(upload.key().as_str(), format!("uploads/{ALICE}/{UPLOAD}"));
        let large = upload.rendition(&RenditionName::parse("large").unwrap());
        assert_eq!(large.key().as_str(), format!("renditions/{ALICE}/{UPLOAD}/large.jpg"));
        assert_eq!(RenditionKey::parse(large.key().as_str()).unwrap(), large);
        assert_eq!(large.upload_key(), upload);
        for bad in [
            format!("uploads/{ALICE}"),
            format!("uploads/{ALICE}/{UPLOAD}/extra"),
            format!("uploads/{ALICE}/not-an-id"),
            format!("uploads//{UPLOAD}"),
            format!("renditions/{ALICE}/{UPLOAD}/large.jpg"),
            format!("other/{ALICE}/{UPLOAD}"),
        ] {
            assert!(UploadKey::parse(&bad).is_err(), "{bad}");
        }
        for bad in [
            format!("renditions/{ALICE}/{UPLOAD}/large.png"),
            format!("renditions/{ALICE}/{UPLOAD}/a/large.jpg"),
            format!("renditions/{ALICE}/{UPLOAD}"),
            format!("uploads/{ALICE}/{UPLOAD}"),
        ] {
            assert!(RenditionKey::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn event_keys_are_decoded_as_form_values() {
        assert_eq!(decode_event_key("uploads/a%2Bb/x+y%C3%A9").unwrap(), "uploads/a+b/x yé");
        assert!(decode_event_key("uploads/%FF").is_err());
        let key = decode_event_key(&format!("uploads/user%2B1/{UPLOAD}")).unwrap();
        assert_eq!(UploadKey::parse(&key).unwrap().owner.as_str(), "user+1");
    }

    proptest! {
        #[test]
        fn every_upload_key_made_parses_back(user in "[A-Za-z0-9_.@+:-]{1,128}", ms in 0u64..(1 << 48)) {
            let key = UploadKey { owner: UserId::parse(&user).unwrap(), upload: UploadId(ulid::Ulid::from_parts(ms, 7)) };
            prop_assert_eq!(UploadKey::parse(key.key().as_str()).unwrap(), key);
        }

        #[test]
        fn key_parsers_never_panic(raw in "\\PC{0,200}") {
            let _ = UploadKey::parse(&raw);
            let _ = RenditionKey::parse(&raw);
            let _ = decode_event_key(&raw);
        }
    }
}
