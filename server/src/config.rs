//! Server configuration: one struct, filled from flags or `JOINUP_*` environment variables.

use std::fmt;
use std::net::SocketAddr;

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE: &str = "sqlite://joinup-data/joinup.db";

#[derive(Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub database: String,
    /// The URL people reach this server at, for printed links and the QR code. Defaults to
    /// `http://ADDR`.
    pub public_url: Option<String>,
    /// The organiser key that may create events. Generated and kept in the data folder when
    /// not given.
    pub organiser_key: Option<String>,
    /// Browser origins allowed to open WebSockets, besides the server's own.
    pub allowed_origins: Vec<String>,
    /// Reverse proxies (besides loopback, always trusted) whose `X-Forwarded-For` names the
    /// client that the per-address limits count: behind a proxy every client would
    /// otherwise share the proxy's address, and one client's excess would refuse everyone.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Ended events are purged this many days after they end; `None` keeps them.
    pub retention_days: Option<u32>,
    /// An event with nobody connected is unloaded from memory after this long.
    pub idle_unload: std::time::Duration,
    /// NATS server that ties several processes into one cluster; `None` runs alone.
    pub nats: Option<String>,
    /// A write a client has left unread for this long ends its connection: it stopped
    /// reading, or went away without a reset. Without a limit such a client would keep
    /// its socket, buffers and connection slot for as long as its TCP connection stays up.
    pub write_stall: std::time::Duration,
}

/// The default for [`Config::idle_unload`].
pub const DEFAULT_IDLE_UNLOAD: std::time::Duration = std::time::Duration::from_secs(600);
/// The default for [`Config::write_stall`]: three ping intervals, as for idle clients;
/// longer than any pause a phone on weak signal recovers from.
pub const DEFAULT_WRITE_STALL: std::time::Duration = std::time::Duration::from_secs(75);

impl Config {
    pub fn new(addr: SocketAddr, database: impl Into<String>) -> Config {
        Config {
            addr,
            database: database.into(),
            public_url: None,
            organiser_key: None,
            allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            retention_days: None,
            idle_unload: DEFAULT_IDLE_UNLOAD,
            nats: None,
            write_stall: DEFAULT_WRITE_STALL,
        }
    }

    /// The public base URL without a trailing slash, given the address actually bound.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("database", &redact_url(&self.database))
            .field("public_url", &self.public_url)
            .field(
                "organiser_key",
                &self.organiser_key.as_ref().map(|_| "[redacted]"),
            )
            .field("allowed_origins", &self.allowed_origins)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("retention_days", &self.retention_days)
            .field("nats", &self.nats.as_deref().map(redact_userinfo))
            .finish()
    }
}

/// Hides a password in a database URL (`postgres://user:secret@host/db`).
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:[redacted]{}",
                    &url[..scheme + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Hides everything before `@` in a URL: a NATS URL may carry a token as its user name.
pub fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}[redacted]{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let mut config = Config::new(
            DEFAULT_ADDR.parse().expect("addr"),
            "postgres://joinup:hunter2@db/joinup",
        );
        config.organiser_key = Some("very-secret".into());
        config.nats = Some("nats://s3cret-token@nats.internal:4222".into());
        let text = format!("{config:?}");
        assert!(!text.contains("very-secret"));
        assert!(!text.contains("hunter2"));
        assert!(!text.contains("s3cret-token"));
        assert!(text.contains("joinup:[redacted]@db"));
        assert!(text.contains("nats://[redacted]@nats.internal:4222"));
    }
}
