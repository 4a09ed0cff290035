//! The sites whose pages may frame the attendee page (`embed.allowed_origins`): each an
//! exact origin, so it can go into `frame-ancestors` as written. The field itself is
//! [`EmbedSpec`]; the header is written in `http/`, not here.

use std::collections::HashSet;

use super::{EmbedSpec, SpecError};

/// The most origins an event may allow to frame its attendee page.
pub const MAX_EMBED_ORIGINS: usize = 10;

/// Whether `origin` is exactly `https://host` or `https://host:port`, lower case: a host of
/// DNS labels (letters, digits, hyphens; not starting or ending with a hyphen) with a dot, or
/// `localhost`, and a port of 1 to 65535. `http` only for `localhost` and `127.0.0.1`.
fn is_embed_origin(origin: &str) -> bool {
    let (rest, loopback_only) = if let Some(rest) = origin.strip_prefix("https://") {
        (rest, false)
    } else if let Some(rest) = origin.strip_prefix("http://") {
        (rest, true)
    } else {
        return false;
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && !p.starts_with('0')
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n))
    });
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let host_ok = host.len() <= 253
        && (host == "localhost" || (host.contains('.') && host.split('.').all(label_ok)));
    port_ok && host_ok && (!loopback_only || host == "localhost" || host == "127.0.0.1")
}

pub(super) fn check_embed(embed: &EmbedSpec) -> Result<(), SpecError> {
    if embed.allowed_origins.len() > MAX_EMBED_ORIGINS {
        return Err(SpecError::new(
            "embed.allowed_origins",
            format!("at most {MAX_EMBED_ORIGINS} origins"),
        ));
    }
    let mut seen = HashSet::new();
    for (i, origin) in embed.allowed_origins.iter().enumerate() {
        let path = format!("embed.allowed_origins[{i}]");
        if !is_embed_origin(origin) {
            return Err(SpecError::new(
                path,
                format!(
                    "{origin:?} is not an https origin: write it as https://host or https://host:port, \
                     in lower case, with no path, wildcard or trailing slash"
                ),
            ));
        }
        if !seen.insert(origin.as_str()) {
            return Err(SpecError::new(
                path,
                format!("origin {origin:?} is listed twice"),
            ));
        }
    }
    Ok(())
}
