//! The network side: one UDP socket and one TCP listener per network
//! gateway, DNS wire format, and the current [`RecordSet`] behind an
//! [`ArcSwap`].
//!
//! Local names are answered inline in the receive loop (no task, no lock:
//! one atomic load of the snapshot); only forwarded queries and TCP
//! connections get a task of their own, held in a [`JoinSet`] so that
//! shutting a listener down also ends everything it started.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, PTR};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::timeout;
use tracing::{debug, warn};

use crate::records::{NetworkName, RecordSet};
use crate::resolve::{resolve, Data, QueryType, Question, Resolution};
use crate::upstream::{self, ForwardLimits};

/// TTL of local answers, in seconds: 600, the value of Docker's embedded DNS.
pub const TTL: u32 = 600;

/// The EDNS payload size advertised in local answers: the size recommended
/// to avoid IP fragmentation (DNS flag day 2020).
const EDNS_PAYLOAD: u16 = 1232;

/// Largest query read over UDP; real queries are far smaller.
const MAX_UDP_QUERY: usize = 4096;

/// Queries being forwarded at once, over all listeners; each holds a socket,
/// so a flood of unknown names must not exhaust the daemon's file
/// descriptors. Beyond this the server answers SERVFAIL at once (Docker caps
/// at 100 per container the same way).
const MAX_FORWARDS: usize = 512;

/// Pause after a failed `accept` (e.g. out of file descriptors) so the loop
/// does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Tunables of the server; [`ServerOptions::default`] gives Docker-like
/// values.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerOptions {
    /// How long one upstream server may take to answer (default 2 s).
    pub upstream_timeout: Duration,
    /// How long forwarding one query may take over all upstreams (default
    /// 4 s, Docker's): below the 5 s after which glibc's resolver retries, so
    /// the client gets our SERVFAIL rather than a timeout.
    pub forward_timeout: Duration,
    /// How long an idle TCP connection is kept open (default 10 s).
    pub tcp_idle_timeout: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            upstream_timeout: Duration::from_secs(2),
            forward_timeout: Duration::from_secs(4),
            tcp_idle_timeout: Duration::from_secs(10),
        }
    }
}

/// The sockets of one network: UDP and TCP on the same address.
#[derive(Debug)]
pub struct Listener {
    network: NetworkName,
    udp: UdpSocket,
    tcp: TcpListener,
}

impl Listener {
    /// Binds UDP and TCP on `address` (usually the network's gateway, port
    /// 53) for queries from `network`. With port 0, both get the same port
    /// chosen by the kernel.
    pub async fn bind(network: NetworkName, address: SocketAddr) -> Result<Self, BindError> {
        let error = |transport, address, source| BindError {
            network: network.clone(),
            address,
            transport,
            source,
        };
        // With port 0 the UDP port the kernel picks may be taken for TCP;
        // pick again a few times before giving up.
        let mut attempts = if address.port() == 0 { 5 } else { 1 };
        loop {
            let udp = UdpSocket::bind(address)
                .await
                .map_err(|source| error("UDP", address, source))?;
            let bound = udp
                .local_addr()
                .map_err(|source| error("UDP", address, source))?;
            match TcpListener::bind(bound).await {
                Ok(tcp) => return Ok(Listener { network, udp, tcp }),
                Err(source) => {
                    attempts -= 1;
                    if attempts == 0 || source.kind() != io::ErrorKind::AddrInUse {
                        return Err(error("TCP", bound, source));
                    }
                }
            }
        }
    }

    /// The address both sockets are bound to.
    pub fn local_addr(&self) -> Result<SocketAddr, io::Error> {
        self.udp.local_addr()
    }
}

/// A listener could not be bound.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot listen for DNS queries of network {network} on {address} over {transport}: {source}"
)]
pub struct BindError {
    /// The network the listener was for.
    pub network: NetworkName,
    /// The address that could not be bound.
    pub address: SocketAddr,
    /// `UDP` or `TCP`.
    pub transport: &'static str,
    /// What the kernel said.
    #[source]
    pub source: io::Error,
}

/// The DNS server: the current records and the options, shared by every
/// listener. Cheap to clone; clones share the records.
#[derive(Debug, Clone)]
pub struct DnsServer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    records: ArcSwap<RecordSet>,
    options: ServerOptions,
    /// Round-robin position for multi-address answers.
    rotation: AtomicUsize,
    /// Permits for queries being forwarded.
    forwards: Semaphore,
}

/// What to do with one received message.
enum Outcome {
    Reply(Vec<u8>),
    Forward {
        request: Message,
        upstreams: Arc<[SocketAddr]>,
    },
    Ignore,
}

impl DnsServer {
    /// A server answering from `records`.
    pub fn new(records: RecordSet, options: ServerOptions) -> Self {
        DnsServer {
            shared: Arc::new(Shared {
                records: ArcSwap::from_pointee(records),
                options,
                rotation: AtomicUsize::new(0),
                forwards: Semaphore::new(MAX_FORWARDS),
            }),
        }
    }

    /// Replaces the records at once: queries already being answered finish
    /// with the old set, later ones see the new one.
    pub fn update(&self, records: RecordSet) {
        self.shared.records.store(Arc::new(records));
    }

    /// Answers queries arriving on `listener` until `shutdown` completes,
    /// then stops every task it started (forwarded queries, TCP connections)
    /// and drops the sockets. Run one per network, each with its own
    /// shutdown, so a network can be removed on its own.
    pub async fn serve(&self, listener: Listener, shutdown: impl Future<Output = ()>) {
        let Listener { network, udp, tcp } = listener;
        let udp = Arc::new(udp);
        let mut tasks = JoinSet::new();
        let mut buffer = vec![0u8; MAX_UDP_QUERY];
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                received = udp.recv_from(&mut buffer) => match received {
                    Ok((length, peer)) => {
                        self.on_datagram(&buffer[..length], peer, &network, &udp, &mut tasks).await;
                    }
                    Err(error) => debug!(%network, %error, "receiving a DNS query over UDP failed"),
                },
                accepted = tcp.accept() => match accepted {
                    Ok((stream, peer)) => {
                        tasks.spawn(self.clone().serve_connection(stream, peer, network.clone()));
                    }
                    Err(error) => {
                        warn!(%network, %error, "accepting a DNS connection failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                },
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        tasks.shutdown().await;
    }

    async fn on_datagram(
        &self,
        bytes: &[u8],
        peer: SocketAddr,
        network: &NetworkName,
        udp: &Arc<UdpSocket>,
        tasks: &mut JoinSet<()>,
    ) {
        let reply = match self.decide(bytes, peer, network, true) {
            Outcome::Reply(reply) => reply,
            Outcome::Ignore => return,
            Outcome::Forward { request, upstreams } => {
                let server = self.clone();
                let query = bytes.to_vec();
                let udp = Arc::clone(udp);
                tasks.spawn(async move {
                    let reply = server.forward(request, query, upstreams, true).await;
                    send_datagram(&udp, &reply, peer).await;
                });
                return;
            }
        };
        send_datagram(udp, &reply, peer).await;
    }

    /// Serves one TCP connection: length-prefixed messages, answered in
    /// order, until the client closes it or stays idle too long.
    async fn serve_connection(self, mut stream: TcpStream, peer: SocketAddr, network: NetworkName) {
        let idle = self.shared.options.tcp_idle_timeout;
        loop {
            let Ok(Ok(length)) = timeout(idle, stream.read_u16()).await else {
                return;
            };
            let mut query = vec![0u8; usize::from(length)];
            let Ok(Ok(_)) = timeout(idle, stream.read_exact(&mut query)).await else {
                return;
            };
            let reply = match self.decide(&query, peer, &network, false) {
                Outcome::Reply(reply) => reply,
                Outcome::Ignore => continue,
                Outcome::Forward { request, upstreams } => {
                    self.forward(request, query, upstreams, false).await
                }
            };
            let Ok(length) = u16::try_from(reply.len()) else {
                return;
            };
            let mut framed = Vec::with_capacity(reply.len() + 2);
            framed.extend_from_slice(&length.to_be_bytes());
            framed.extend_from_slice(&reply);
            if let Err(error) = stream.write_all(&framed).await {
                debug!(%network, %peer, %error, "sending a DNS reply over TCP failed");
                return;
            }
        }
    }

    /// Parses one message and decides locally what to do with it.
    fn decide(&self, bytes: &[u8], peer: SocketAddr, network: &NetworkName, udp: bool) -> Outcome {
        let Ok(request) = Message::from_vec(bytes) else {
            return format_error(bytes).map_or(Outcome::Ignore, Outcome::Reply);
        };
        // Never answer a response: two servers could bounce it forever.
        if request.message_type() != MessageType::Query {
            return Outcome::Ignore;
        }
        let limit = udp.then(|| udp_limit(&request));
        if request.op_code() != OpCode::Query {
            return Outcome::Reply(encode(&response(&request, ResponseCode::NotImp), limit));
        }
        let [query] = request.queries() else {
            return Outcome::Reply(encode(&response(&request, ResponseCode::FormErr), limit));
        };
        let kind = match query.query_type() {
            RecordType::A => QueryType::A,
            RecordType::AAAA => QueryType::Aaaa,
            RecordType::PTR => QueryType::Ptr,
            _ => QueryType::Other,
        };
        let name = query.name().to_ascii();
        let question = Question {
            name: &name,
            kind,
            asker: peer.ip().to_canonical(),
            network: network.as_str(),
        };
        let rotation = self.shared.rotation.fetch_add(1, Ordering::Relaxed);
        let resolution = resolve(&self.shared.records.load(), &question, rotation);
        match resolution {
            Resolution::Answer(data) => Outcome::Reply(encode(&answer(&request, data), limit)),
            Resolution::NxDomain => {
                let mut reply = response(&request, ResponseCode::NXDomain);
                reply.set_authoritative(true);
                Outcome::Reply(encode(&reply, limit))
            }
            Resolution::Refused => {
                debug!(%network, %peer, "refused a query from an address that is not an endpoint of the network");
                Outcome::Reply(encode(&response(&request, ResponseCode::Refused), limit))
            }
            Resolution::Forward(upstreams) => Outcome::Forward { request, upstreams },
        }
    }

    /// Forwards `query` and returns the reply to send: the upstream's own,
    /// a truncated one if it is too big for the client's UDP buffer (the
    /// client then retries over TCP), or SERVFAIL when no upstream replied.
    async fn forward(
        &self,
        request: Message,
        query: Vec<u8>,
        upstreams: Arc<[SocketAddr]>,
        udp: bool,
    ) -> Vec<u8> {
        let Ok(_permit) = self.shared.forwards.try_acquire() else {
            debug!("too many queries being forwarded; answering SERVFAIL");
            return encode(&response(&request, ResponseCode::ServFail), None);
        };
        let options = &self.shared.options;
        let limits = ForwardLimits {
            per_upstream: options.upstream_timeout,
            total: options.forward_timeout,
        };
        match upstream::forward(&query, &upstreams, limits).await {
            // The upstream sized its reply for the client's own limit.
            Ok(reply) if udp && reply.len() > usize::from(request.max_payload()) => {
                encode(&truncated(&request), None)
            }
            Ok(reply) => reply,
            Err(error) => {
                debug!(%error, "answering SERVFAIL");
                encode(&response(&request, ResponseCode::ServFail), None)
            }
        }
    }
}

async fn send_datagram(udp: &UdpSocket, reply: &[u8], peer: SocketAddr) {
    if let Err(error) = udp.send_to(reply, peer).await {
        debug!(%peer, %error, "sending a DNS reply over UDP failed");
    }
}

/// An empty reply to `request` with the given code, echoing the question.
fn response(request: &Message, code: ResponseCode) -> Message {
    let mut reply = Message::new();
    reply
        .set_id(request.id())
        .set_message_type(MessageType::Response)
        .set_op_code(request.op_code())
        .set_recursion_desired(request.recursion_desired())
        .set_recursion_available(true)
        .set_checking_disabled(request.checking_disabled())
        .set_response_code(code)
        .add_queries(request.queries().iter().cloned());
    if request.extensions().is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(EDNS_PAYLOAD);
        reply.set_edns(edns);
    }
    reply
}

fn truncated(request: &Message) -> Message {
    let mut reply = response(request, ResponseCode::NoError);
    reply.set_truncated(true);
    reply
}

fn answer(request: &Message, data: Vec<Data>) -> Message {
    let mut reply = response(request, ResponseCode::NoError);
    reply.set_authoritative(true);
    let Some(owner) = request.queries().first().map(|query| query.name().clone()) else {
        return reply;
    };
    for item in data {
        let rdata = match item {
            Data::A(address) => RData::A(A(address)),
            Data::Aaaa(address) => RData::AAAA(AAAA(address)),
            Data::Ptr(target) => match Name::from_ascii(format!("{target}.")) {
                Ok(name) => RData::PTR(PTR(name)),
                Err(error) => {
                    warn!(%target, %error, "a record set name is not a valid DNS name");
                    return response(request, ResponseCode::ServFail);
                }
            },
        };
        reply.add_answer(Record::from_rdata(owner.clone(), TTL, rdata));
    }
    reply
}

/// Encodes `reply`; over UDP (`limit` given), a reply that does not fit is
/// sent without its records and with the TC flag, so the client asks again
/// over TCP.
fn encode(reply: &Message, limit: Option<usize>) -> Vec<u8> {
    let bytes = match reply.to_vec() {
        Ok(bytes) => bytes,
        Err(error) => {
            warn!(%error, "encoding a DNS reply failed");
            return server_failure(reply.id());
        }
    };
    match limit {
        Some(limit) if bytes.len() > limit && !reply.truncated() => {
            let mut short = reply.clone();
            short.take_answers();
            short.take_additionals();
            short.take_name_servers();
            short.set_truncated(true);
            encode(&short, None)
        }
        _ => bytes,
    }
}

/// The largest UDP reply the client of `request` accepts (512 without EDNS),
/// capped at what we advertise ourselves.
fn udp_limit(request: &Message) -> usize {
    usize::from(request.max_payload().min(EDNS_PAYLOAD))
}

/// A bare SERVFAIL header, for when even encoding failed.
fn server_failure(id: u16) -> Vec<u8> {
    let mut bytes = vec![0u8; 12];
    bytes[..2].copy_from_slice(&id.to_be_bytes());
    bytes[2] = 0x80;
    bytes[3] = 0x80 | ResponseCode::ServFail.low();
    bytes
}

/// FORMERR for a query whose header is readable but whose body is not;
/// `None` for anything that is not even a query header.
fn format_error(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.len() < 12 || bytes[2] & 0x80 != 0 {
        return None;
    }
    let mut reply = vec![0u8; 12];
    reply[..2].copy_from_slice(&bytes[..2]);
    // Keep the opcode, set QR.
    reply[2] = 0x80 | (bytes[2] & 0x78);
    reply[3] = ResponseCode::FormErr.low();
    Some(reply)
}
