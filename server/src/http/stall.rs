//! A limit on how long a client may leave the server's writes unread, for every HTTP
//! connection. hyper has no write timeout: a response it cannot write (a Server-Sent Events
//! stream to a client that stopped reading, a large page to one that went away without a
//! reset) would keep its socket, its buffers and its connection slot for as long as the
//! client keeps the TCP connection open. Here a write that has made no progress for the
//! limit fails, and hyper closes the connection.
//!
//! The WebSocket transport gives up on a stalled write by itself as well (`ws/socket.rs`, with the
//! same limit), so that it can also give up at once when the hub drops the connection.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;

/// Accepts connections whose writes give up after `limit` without progress.
pub struct StallLimited {
    listener: TcpListener,
    limit: Duration,
}

impl StallLimited {
    pub fn new(listener: TcpListener, limit: Duration) -> StallLimited {
        StallLimited { listener, limit }
    }
}

impl axum::serve::Listener for StallLimited {
    type Io = StallGuard;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = axum::serve::Listener::accept(&mut self.listener).await;
        (StallGuard::new(stream, self.limit), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

/// A TCP stream whose writes fail with `TimedOut` after `limit` without progress.
pub struct StallGuard {
    stream: TcpStream,
    limit: Duration,
    /// Set while a write is waiting for room in the socket; allocated only then, so an
    /// idle connection costs no timer.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl StallGuard {
    fn new(stream: TcpStream, limit: Duration) -> StallGuard {
        StallGuard {
            stream,
            limit,
            stalled: None,
        }
    }

    pub fn get_ref(&self) -> &TcpStream {
        &self.stream
    }

    /// What a write's outcome means for the stall: progress clears it; waiting for room
    /// starts it, or fails the write once it has lasted the limit.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match polled {
            Poll::Ready(outcome) => {
                self.stalled = None;
                Poll::Ready(outcome)
            }
            Poll::Pending => {
                let limit = self.limit;
                let timer = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                ready!(timer.as_mut().poll(cx));
                self.stalled = None;
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client read nothing for the write stall limit",
                )))
            }
        }
    }
}

impl AsyncRead for StallGuard {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for StallGuard {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.watch(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.watch(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    /// A TCP stream has nothing of its own to flush: only a write's progress counts.
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Writes to a peer that reads nothing fail once they have waited the limit, and a
    /// peer that reads keeps the connection however long the writing takes.
    #[tokio::test]
    async fn a_write_nobody_reads_fails_after_the_limit() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut limited = StallLimited::new(listener, Duration::from_millis(300));
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
        let (client, (mut server, _)) = tokio::join!(socket.connect(addr), async {
            axum::serve::Listener::accept(&mut limited).await
        });
        let mut client = client.expect("connect");

        // The client reads everything: a megabyte goes through, slowly or not.
        let reader = tokio::spawn(async move {
            let mut buf = vec![0; 64 * 1024];
            let mut total = 0;
            while total < 1 << 20 {
                total += client.read(&mut buf).await.expect("read");
            }
            client
        });
        server
            .write_all(&vec![7; 1 << 20])
            .await
            .expect("a read write");
        let client = reader.await.expect("reader");

        // Now it reads nothing: the kernel's buffers fill, then the write waits and fails.
        let started = tokio::time::Instant::now();
        let failed = loop {
            if let Err(e) = server.write_all(&[7; 64 * 1024]).await {
                break e;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "writes to a peer that reads nothing never failed"
            );
        };
        assert_eq!(failed.kind(), io::ErrorKind::TimedOut);
        drop(client);
    }
}
