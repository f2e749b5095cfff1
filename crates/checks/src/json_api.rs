//! The HTTP JSON APIs that answer without authentication (Elasticsearch,
//! CouchDB, Docker, etcd): a GET whose 2xx JSON reply proves access.

use crate::io::http_get;
use crate::Ctx;
use serde_json::Value;

/// The most of a JSON reply read.
const CAP: usize = 64 * 1024;

/// `GET path`: the JSON body of a 2xx reply, or `None` (an error status,
/// such as 401, proves nothing).
pub(crate) async fn get_json(ctx: &Ctx, path: &str) -> Option<Value> {
    let r = http_get(ctx, path, CAP).await?;
    if !(200..300).contains(&r.status) {
        return None;
    }
    serde_json::from_slice(&r.body).ok()
}

/// The string at `pointer` (RFC 6901), cleaned and cut for output.
pub(crate) fn text(v: &Value, pointer: &str) -> Option<String> {
    let s = match v.pointer(pointer)? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    Some(crate::io::clean(&s, 100))
}
