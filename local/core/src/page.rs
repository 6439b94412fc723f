//! Pagination as AWS list operations do it: a `nextToken` is opaque to callers (URL-safe base64 of JSON), carries
//! the request it continues (refused for any other) and the key of the last item it gave, so the next page begins
//! after that item wherever it now is (a position would shift as items are added).

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// Which way a list runs by its items' keys.
#[derive(Debug, Clone, Copy)]
pub enum Order {
    Ascending,
    Descending,
}

/// A token this list did not hand out for this request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid Token: '{0}'")]
pub struct InvalidToken(pub String);

#[derive(Serialize, Deserialize)]
struct Token<K> {
    request: Value,
    after: K,
}

/// The page size when the caller asks for none (`0`).
pub const DEFAULT_PAGE: usize = 100;

/// One page of `items`, which run in `order` by `key`. `request` is what identifies the listing (its filters):
/// a token is honoured only for the same request.
pub fn paginate<T, K>(
    items: Vec<T>,
    request: &Value,
    key: impl Fn(&T) -> K,
    order: Order,
    max_results: usize,
    next_token: Option<&str>,
) -> Result<Page<T>, InvalidToken>
where
    K: Ord + Serialize + DeserializeOwned,
{
    let start = match token_after::<K>(request, next_token)? {
        None => 0,
        Some(after) => items.partition_point(|item| match order {
            Order::Ascending => key(item) <= after,
            Order::Descending => key(item) >= after,
        }),
    };
    let max = if max_results == 0 { DEFAULT_PAGE } else { max_results };
    let end = start.saturating_add(max).min(items.len());
    let next_token = (end < items.len()).then(|| token(request, key(&items[end - 1])));
    Ok(Page { items: items.into_iter().skip(start).take(end - start).collect(), next_token })
}

/// The key of the last item the page before gave, from `next_token` (`None` without one): for a listing that reads
/// only one page from its storage instead of handing [`paginate`] every item. Refused unless the token was handed
/// out for this `request`.
pub fn token_after<K: DeserializeOwned>(request: &Value, next_token: Option<&str>) -> Result<Option<K>, InvalidToken> {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let Some(t) = next_token else { return Ok(None) };
    let token: Token<K> = URL_SAFE_NO_PAD
        .decode(t)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| InvalidToken(t.to_owned()))?;
    if token.request != *request {
        return Err(InvalidToken(t.to_owned()));
    }
    Ok(Some(token.after))
}

/// The token that continues `request`'s listing after the item keyed `after`.
pub fn token<K: Serialize>(request: &Value, after: K) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let token = Token { request: request.clone(), after };
    // A key that serialises to JSON (every key type here does) cannot fail to; an empty token would only end the
    // listing early, never repeat or skip.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_token_is_refused_for_another_request_or_when_forged() {
        let page =
            paginate((0..10).collect::<Vec<u32>>(), &json!({"a": 1}), |i| *i, Order::Ascending, 3, None).unwrap();
        let t = page.next_token.unwrap();
        assert!(paginate(vec![1u32], &json!({"a": 2}), |i| *i, Order::Ascending, 3, Some(&t)).is_err());
        assert!(paginate(vec![1u32], &json!({"a": 1}), |i| *i, Order::Ascending, 3, Some("!!")).is_err());
    }

    #[test]
    fn pages_continue_after_their_last_item_and_a_token_serves_only_its_own_request() {
        let request = json!({"executionArn": "a", "reverseOrder": false});
        let page = |items: Vec<u64>, token: Option<&str>| paginate(items, &request, |n| *n, Order::Ascending, 2, token);
        let first = page((1..=5).collect(), None).unwrap();
        assert_eq!(first.items, [1, 2]);
        let token = first.next_token.unwrap();
        // Items added before the position (or the item itself gone) shift nothing.
        let second = page(vec![0, 1, 3, 4, 5], Some(&token)).unwrap();
        assert_eq!(second.items, [3, 4]);
        let last = page((1..=5).collect(), second.next_token.as_deref()).unwrap();
        assert_eq!((last.items, last.next_token), (vec![5], None));

        let descending = paginate((1..=5).rev().collect::<Vec<u64>>(), &request, |n| *n, Order::Descending, 2, None);
        let token = descending.unwrap().next_token.unwrap();
        let rest = paginate(vec![9, 5, 4, 3, 2, 1], &request, |n| *n, Order::Descending, 9, Some(&token)).unwrap();
        assert_eq!(rest.items, [3, 2, 1]);

        let other = json!({"executionArn": "b", "reverseOrder": false});
        for bad in [token.as_str(), "forged", "2", ""] {
            let refused = paginate(vec![1u64, 2, 3], &other, |n| *n, Order::Descending, 2, Some(bad));
            assert!(refused.is_err(), "{bad:?}");
        }
    }
}
