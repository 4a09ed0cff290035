//! The fallback for networks that block WebSocket: client messages POSTed as JSON, server
//! messages as Server-Sent Events. Both reach the same event actor as a WebSocket would.
//!
//! The POSTed `hello` sets an HttpOnly, SameSite=Strict cookie holding the attendee's token,
//! scoped to the event's API path; it identifies the attendee to both routes. An event whose
//! attendee page other sites may frame gets a `SameSite=None; Secure; Partitioned` cookie
//! instead, so the fallback works inside the frame. A stream always
//! begins with a fresh `welcome`, which carries the attendee's whole state, so a reconnect
//! (with or without `Last-Event-ID`) never misses anything.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use tokio::sync::oneshot;

use super::{ApiError, AppState};
use crate::hub::conn::{self, ATTENDEE_QUEUE};
use crate::hub::{Command, ConnId, ConnSource, EventHandle, Out, StreamOpen};
use crate::protocol::{ErrorCode, MAX_FRAME, decode_client, server};

const COOKIE: &str = "joinup_attendee";
const COOKIE_MAX_AGE: u64 = 7 * 24 * 3600;

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_alphanumeric()))
}

pub async fn post_message(
    State(app): State<AppState>,
    Path(code): Path<String>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    app.check_origin(&headers)?;
    let handle = app.event(&code).await?;
    let body = body.map_err(|r| ApiError::bad_request("bad_body", r.body_text()))?;
    if body.len() > MAX_FRAME {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("a message is at most {MAX_FRAME} bytes"),
        ));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("invalid_message", "the body is not UTF-8 text"))?;
    let msg = match decode_client(text) {
        Ok(msg) => msg,
        Err(e) => {
            return Ok(json_frame(server::error(
                e.id.as_ref(),
                ErrorCode::InvalidMessage,
                &e.message,
            )));
        }
    };
    if matches!(msg, crate::protocol::ClientMsg::Hello { .. }) {
        app.join(app.client_ip(peer.ip(), &headers))?;
    }
    let (reply, wait) = oneshot::channel();
    handle
        .send(Command::Post {
            token: cookie_token(&headers),
            msg,
            reply,
            at: tokio::time::Instant::now(),
        })
        .await?;
    let reply = wait.await.map_err(|_| ApiError::unavailable())?;
    let mut response = json_frame(reply.frame);
    if let Some(token) = reply.token {
        // A page framed by another site is a third party there: a SameSite=Strict cookie
        // would never come back, so an event that allows framing gets a partitioned cookie
        // (kept apart for each site that frames it; Secure, which browsers also grant to
        // http://localhost). The Origin check above, not SameSite, is what stops forgery.
        let same_site = if handle.info().event.spec.embed.allowed_origins.is_empty() {
            let secure = if app.public_url().starts_with("https://") {
                "; Secure"
            } else {
                ""
            };
            format!("SameSite=Strict{secure}")
        } else {
            "SameSite=None; Secure; Partitioned".to_owned()
        };
        let cookie = format!(
            "{COOKIE}={token}; Path=/api/events/{}/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; {same_site}",
            handle.info().code
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

fn json_frame(frame: Bytes) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        frame,
    )
        .into_response()
}

pub async fn stream(
    State(app): State<AppState>,
    Path(code): Path<String>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    app.check_origin(&headers)?;
    let handle = app.event(&code).await?;
    let slot = app.joined_slot(app.client_ip(peer.ip(), &headers))?;
    let token = cookie_token(&headers).ok_or_else(|| {
        ApiError::unauthorized("join first: POST a hello message to /api/events/{code}/messages")
    })?;
    let conn = ConnId::next();
    let (sink, rx) = conn::channel(ATTENDEE_QUEUE);
    let (reply, wait) = oneshot::channel();
    handle
        .send(Command::Stream {
            conn,
            token,
            sink,
            reply,
        })
        .await?;
    match wait.await.unwrap_or(StreamOpen::Unknown) {
        StreamOpen::Opened => {}
        StreamOpen::Unknown => {
            return Err(ApiError::unauthorized(
                "this attendee is not known to the event, or the event has ended: POST hello again",
            ));
        }
        StreamOpen::TooMany => {
            return Err(ApiError::too_many_messages());
        }
    }
    let state = StreamState {
        rx,
        guard: Guard {
            handle,
            conn,
            _slot: slot,
        },
        next_id: 1,
        done: false,
    };
    let events = stream::unfold(state, |mut s| async move {
        if s.done {
            return None;
        }
        // Dropped by the hub (its queue was full, so there is always a frame to wake for):
        // close at once, past what is queued.
        let mut out = match s.rx.dropped_with() {
            Some(code) => Some(Out::Close(code)),
            None => s.rx.recv().await,
        };
        // A stream takes no replies at once, so is never owed a flush.
        while let Some(Out::Flush) = out {
            out = s.rx.recv().await;
        }
        let event = match out {
            Some(Out::Frame(frame)) => {
                let id = s.next_id;
                s.next_id += 1;
                SseEvent::default()
                    .id(id.to_string())
                    .data(String::from_utf8_lossy(&frame))
            }
            Some(Out::Close(code)) => {
                s.done = true;
                SseEvent::default()
                    .event("close")
                    .data(format!("{{\"code\":{}}}", code.code()))
            }
            Some(Out::Flush) | None => return None,
        };
        Some((Ok::<_, Infallible>(event), s))
    });
    let mut response = Sse::new(events)
        .keep_alive(
            KeepAlive::new()
                .interval(Duration::from_secs(15))
                .text("keep-alive"),
        )
        .into_response();
    // Tell proxies such as nginx not to buffer the stream.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

struct StreamState {
    rx: ConnSource,
    #[allow(dead_code)]
    guard: Guard,
    next_id: u64,
    done: bool,
}

/// Tells the actor when a stream's client goes away (the response body is dropped).
struct Guard {
    handle: EventHandle,
    conn: ConnId,
    /// Counts the stream against its address while it is open.
    _slot: super::limits::ConnectionSlot,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        let conn = self.conn;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = handle.send(Command::Disconnect { conn }).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_attendee_cookie_only() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "other=1; joinup_attendee=abc123".parse().expect("header"),
        );
        assert_eq!(cookie_token(&headers).as_deref(), Some("abc123"));
        headers.insert(
            header::COOKIE,
            "joinup_attendee=a;b".parse().expect("header"),
        );
        assert_eq!(cookie_token(&headers).as_deref(), Some("a"));
        headers.insert(
            header::COOKIE,
            "joinup_attendee=<script>".parse().expect("header"),
        );
        assert_eq!(cookie_token(&headers), None);
    }
}
