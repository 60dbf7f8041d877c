//! The server on real sockets: listeners on 127.53.<test>.x with port 0, a
//! fake upstream run by the test on another loopback address, and queries
//! sent from the loopback addresses the record set gives the "containers".
//! No packet leaves 127.0.0.0/8.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::{Edns, Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use stack_dns::{
    DnsName, DnsServer, Endpoint, Listener, NetworkName, RecordSet, ServerOptions, TTL,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// How long a test waits for any reply before failing.
const PATIENCE: Duration = Duration::from_secs(5);

/// Every test has its own /24 inside 127.53.0.0/16.
fn ip(test: u8, host: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 53, test, host)
}

fn name(text: &str) -> DnsName {
    DnsName::parse(text).unwrap()
}

fn net(text: &str) -> NetworkName {
    NetworkName::parse(text).unwrap()
}

fn fast_options() -> ServerOptions {
    let mut options = ServerOptions::default();
    options.upstream_timeout = Duration::from_millis(200);
    options.forward_timeout = Duration::from_millis(400);
    options
}

/// One running listener and the means to stop it.
struct Running {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        self.stop.send(()).unwrap();
        timeout(PATIENCE, self.task).await.unwrap().unwrap();
    }
}

async fn serve(server: &DnsServer, network: &str, address: Ipv4Addr) -> Running {
    let listener = Listener::bind(net(network), (address, 0).into())
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = server.clone();
    let task = tokio::spawn(async move {
        server
            .serve(listener, async {
                stopped.await.ok();
            })
            .await;
    });
    Running {
        address,
        stop,
        task,
    }
}

fn query_message(qname: &str, kind: RecordType) -> Message {
    let mut message = Message::new();
    message
        .set_id(0x5a5a)
        .set_message_type(MessageType::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(Name::from_ascii(qname).unwrap(), kind));
    message
}

fn query_bytes(qname: &str, kind: RecordType) -> Vec<u8> {
    query_message(qname, kind).to_vec().unwrap()
}

async fn ask_udp(from: Ipv4Addr, server: SocketAddr, qname: &str, kind: RecordType) -> Message {
    ask_udp_bytes(from, server, &query_bytes(qname, kind)).await
}

async fn ask_udp_bytes(from: Ipv4Addr, server: SocketAddr, query: &[u8]) -> Message {
    let socket = UdpSocket::bind((from, 0)).await.unwrap();
    socket.send_to(query, server).await.unwrap();
    let mut buffer = vec![0u8; 65535];
    let (length, _) = timeout(PATIENCE, socket.recv_from(&mut buffer))
        .await
        .expect("no reply over UDP")
        .unwrap();
    let reply = Message::from_vec(&buffer[..length]).unwrap();
    assert_eq!(reply.id(), 0x5a5a);
    reply
}

async fn ask_tcp(from: Ipv4Addr, server: SocketAddr, qname: &str, kind: RecordType) -> Message {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind((from, 0).into()).unwrap();
    let mut stream = socket.connect(server).await.unwrap();
    let query = query_bytes(qname, kind);
    stream
        .write_all(&u16::try_from(query.len()).unwrap().to_be_bytes())
        .await
        .unwrap();
    stream.write_all(&query).await.unwrap();
    let length = timeout(PATIENCE, stream.read_u16())
        .await
        .expect("no reply over TCP")
        .unwrap();
    let mut reply = vec![0u8; usize::from(length)];
    stream.read_exact(&mut reply).await.unwrap();
    Message::from_vec(&reply).unwrap()
}

fn addresses(reply: &Message) -> Vec<IpAddr> {
    reply
        .answers()
        .iter()
        .filter_map(|record| match record.data() {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
            _ => None,
        })
        .collect()
}

fn sorted(mut list: Vec<IpAddr>) -> Vec<IpAddr> {
    list.sort();
    list
}

/// A stand-in for the host's resolver, answering by name:
/// `ok.example` → `answer`, `broken.example` → SERVFAIL, `slow.example` →
/// nothing, `big.example` → truncated over UDP and 40 records over TCP,
/// anything else → NXDOMAIN. Counts the queries it receives.
struct FakeUpstream {
    address: SocketAddr,
    queries: Arc<AtomicUsize>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl FakeUpstream {
    async fn start(address: Ipv4Addr, answer: Ipv4Addr) -> Self {
        let udp = UdpSocket::bind((address, 0)).await.unwrap();
        let address = udp.local_addr().unwrap();
        let tcp = TcpListener::bind(address).await.unwrap();
        let queries = Arc::new(AtomicUsize::new(0));
        let udp_task = tokio::spawn({
            let queries = Arc::clone(&queries);
            async move {
                let mut buffer = vec![0u8; 4096];
                loop {
                    let (length, peer) = udp.recv_from(&mut buffer).await.unwrap();
                    queries.fetch_add(1, Ordering::SeqCst);
                    if let Some(reply) = fake_reply(&buffer[..length], answer, true) {
                        udp.send_to(&reply, peer).await.unwrap();
                    }
                }
            }
        });
        let tcp_task = tokio::spawn({
            let queries = Arc::clone(&queries);
            async move {
                loop {
                    let (stream, _) = tcp.accept().await.unwrap();
                    queries.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(fake_tcp_connection(stream, answer));
                }
            }
        });
        FakeUpstream {
            address,
            queries,
            tasks: vec![udp_task, tcp_task],
        }
    }

    fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }
}

async fn fake_tcp_connection(mut stream: TcpStream, answer: Ipv4Addr) {
    let Ok(length) = stream.read_u16().await else {
        return;
    };
    let mut query = vec![0u8; usize::from(length)];
    stream.read_exact(&mut query).await.unwrap();
    if let Some(reply) = fake_reply(&query, answer, false) {
        let length = u16::try_from(reply.len()).unwrap();
        stream.write_all(&length.to_be_bytes()).await.unwrap();
        stream.write_all(&reply).await.unwrap();
    }
}

fn fake_reply(query: &[u8], answer: Ipv4Addr, udp: bool) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).unwrap();
    let question = request.queries()[0].clone();
    let mut reply = Message::new();
    reply
        .set_id(request.id())
        .set_message_type(MessageType::Response)
        .set_recursion_desired(request.recursion_desired())
        .set_recursion_available(true)
        .add_query(question.clone());
    let owner = question.name().clone();
    match question.name().to_ascii().to_ascii_lowercase().as_str() {
        "ok.example." => {
            reply.add_answer(Record::from_rdata(owner, 30, RData::A(A(answer))));
        }
        "broken.example." => {
            reply.set_response_code(ResponseCode::ServFail);
        }
        "slow.example." => return None,
        "big.example." if udp => {
            reply.set_truncated(true);
        }
        "big.example." => {
            for host in 1..=40 {
                let address = Ipv4Addr::new(198, 51, 100, host);
                reply.add_answer(Record::from_rdata(owner.clone(), 30, RData::A(A(address))));
            }
        }
        _ => {
            reply.set_response_code(ResponseCode::NXDomain);
        }
    }
    Some(reply.to_vec().unwrap())
}

/// `front`: web replicas at .11 and .12, `both` at .13 and fd00:53::13 (an
/// address only served as data, never sent to); `back`: db at .21,
/// `both` at .22. Listeners: front on .1, back on .2.
fn two_networks(test: u8, upstreams: Vec<SocketAddr>) -> RecordSet {
    let mut builder = RecordSet::builder();
    builder
        .upstreams(upstreams)
        .endpoint(
            Endpoint::new(net("front"), name("shop-web-1"))
                .alias(name("web"))
                .ipv4(ip(test, 11)),
        )
        .endpoint(
            Endpoint::new(net("front"), name("shop-web-2"))
                .alias(name("web"))
                .ipv4(ip(test, 12)),
        )
        .endpoint(
            Endpoint::new(net("front"), name("both"))
                .ipv4(ip(test, 13))
                .ipv6(Ipv6Addr::new(0xfd00, 0x53, 0, 0, 0, 0, 0, 0x13)),
        )
        .endpoint(
            Endpoint::new(net("back"), name("shop-db-1"))
                .alias(name("db"))
                .ipv4(ip(test, 21)),
        )
        .endpoint(Endpoint::new(net("back"), name("both")).ipv4(ip(test, 22)));
    builder.build().unwrap()
}

#[tokio::test]
async fn answers_names_of_the_askers_network_with_every_replica() {
    let test = 1;
    let server = DnsServer::new(two_networks(test, vec![]), fast_options());
    let front = serve(&server, "front", ip(test, 1)).await;

    let reply = ask_udp(ip(test, 13), front.address, "web.", RecordType::A).await;
    assert_eq!(reply.response_code(), ResponseCode::NoError);
    assert!(reply.authoritative());
    assert_eq!(
        sorted(addresses(&reply)),
        vec![IpAddr::V4(ip(test, 11)), IpAddr::V4(ip(test, 12))]
    );
    assert!(reply.answers().iter().all(|record| record.ttl() == TTL));

    // Round robin: consecutive answers start with different replicas.
    let again = ask_udp(ip(test, 13), front.address, "web.", RecordType::A).await;
    assert_ne!(addresses(&reply)[0], addresses(&again)[0]);

    // Case-insensitive, container name, and the name.network form.
    for qname in ["SHOP-Web-1.", "shop-web-1.front.", "shop-web-1.FRONT."] {
        let reply = ask_udp(ip(test, 13), front.address, qname, RecordType::A).await;
        assert_eq!(addresses(&reply), vec![IpAddr::V4(ip(test, 11))], "{qname}");
        assert_eq!(reply.queries()[0].name().to_ascii(), qname);
    }

    let reply = ask_udp(ip(test, 11), front.address, "both.", RecordType::AAAA).await;
    assert_eq!(
        addresses(&reply),
        vec![IpAddr::V6("fd00:53::13".parse().unwrap())]
    );

    // No IPv6 address: NODATA, not NXDOMAIN.
    let reply = ask_udp(ip(test, 13), front.address, "web.", RecordType::AAAA).await;
    assert_eq!(reply.response_code(), ResponseCode::NoError);
    assert!(reply.answers().is_empty());

    // Reverse lookup answers container.network as Docker does.
    let reply = ask_udp(
        ip(test, 11),
        front.address,
        "12.1.53.127.in-addr.arpa.",
        RecordType::PTR,
    )
    .await;
    let RData::PTR(target) = reply.answers()[0].data() else {
        panic!("not a PTR answer: {reply:?}");
    };
    assert_eq!(target.0.to_ascii(), "shop-web-2.front.");
    front.stop().await;
}

#[tokio::test]
async fn names_of_networks_the_asker_is_not_on_are_nxdomain() {
    let test = 2;
    let upstream = FakeUpstream::start(ip(test, 99), Ipv4Addr::new(198, 51, 100, 1)).await;
    let server = DnsServer::new(two_networks(test, vec![upstream.address]), fast_options());
    let front = serve(&server, "front", ip(test, 1)).await;
    let back = serve(&server, "back", ip(test, 2)).await;

    for qname in ["db.", "shop-db-1.", "db.back."] {
        let reply = ask_udp(ip(test, 11), front.address, qname, RecordType::A).await;
        assert_eq!(reply.response_code(), ResponseCode::NXDomain, "{qname}");
    }
    let reply = ask_udp(ip(test, 21), back.address, "web.", RecordType::A).await;
    assert_eq!(reply.response_code(), ResponseCode::NXDomain);
    assert_eq!(upstream.queries(), 0, "scoped names must not be forwarded");

    // A container on both networks sees both, asking on either.
    let reply = ask_udp(ip(test, 13), front.address, "db.", RecordType::A).await;
    assert_eq!(addresses(&reply), vec![IpAddr::V4(ip(test, 21))]);
    let reply = ask_udp(ip(test, 22), back.address, "web.", RecordType::A).await;
    assert_eq!(addresses(&reply).len(), 2);

    // An address that is no endpoint of the network is refused.
    let reply = ask_udp(ip(test, 21), front.address, "web.", RecordType::A).await;
    assert_eq!(reply.response_code(), ResponseCode::Refused);
    let reply = ask_udp(ip(test, 77), front.address, "ok.example.", RecordType::A).await;
    assert_eq!(reply.response_code(), ResponseCode::Refused);
    assert_eq!(upstream.queries(), 0);
    front.stop().await;
    back.stop().await;
}

#[tokio::test]
async fn other_names_are_forwarded_and_failures_passed_through() {
    let test = 3;
    let upstream_answer = Ipv4Addr::new(198, 51, 100, 7);
    let upstream = FakeUpstream::start(ip(test, 99), upstream_answer).await;
    // Slow timeouts, so a failure turned into a timeout would show.
    let mut options = ServerOptions::default();
    options.upstream_timeout = Duration::from_secs(3);
    let server = DnsServer::new(two_networks(test, vec![upstream.address]), options);
    let front = serve(&server, "front", ip(test, 1)).await;

    let reply = ask_udp(ip(test, 11), front.address, "ok.example.", RecordType::A).await;
    assert_eq!(reply.response_code(), ResponseCode::NoError);
    assert_eq!(addresses(&reply), vec![IpAddr::V4(upstream_answer)]);
    // The upstream's own TTL, untouched.
    assert_eq!(reply.answers()[0].ttl(), 30);

    let started = Instant::now();
    let reply = ask_udp(
        ip(test, 11),
        front.address,
        "missing.example.",
        RecordType::A,
    )
    .await;
    assert_eq!(reply.response_code(), ResponseCode::NXDomain);
    let reply = ask_udp(
        ip(test, 11),
        front.address,
        "broken.example.",
        RecordType::A,
    )
    .await;
    assert_eq!(reply.response_code(), ResponseCode::ServFail);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "NXDOMAIN and SERVFAIL must come back at once, took {:?}",
        started.elapsed()
    );
    assert_eq!(upstream.queries(), 3);
    front.stop().await;
}

#[tokio::test]
async fn a_silent_upstream_gives_servfail_before_the_client_gives_up() {
    let test = 4;
    let upstream = FakeUpstream::start(ip(test, 99), Ipv4Addr::new(198, 51, 100, 1)).await;
    // A second upstream that is not even listening: its refusal must not
    // stall the query either.
    let closed = {
        let socket = UdpSocket::bind((ip(test, 98), 0)).await.unwrap();
        socket.local_addr().unwrap()
    };
    let server = DnsServer::new(
        two_networks(test, vec![upstream.address, closed]),
        fast_options(),
    );
    let front = serve(&server, "front", ip(test, 1)).await;

    let started = Instant::now();
    let reply = ask_udp(ip(test, 11), front.address, "slow.example.", RecordType::A).await;
    assert_eq!(reply.response_code(), ResponseCode::ServFail);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(150) && elapsed < Duration::from_secs(2),
        "took {elapsed:?}"
    );
    front.stop().await;
}

#[tokio::test]
async fn a_containers_own_upstreams_override_the_default() {
    let test = 5;
    let default = FakeUpstream::start(ip(test, 98), Ipv4Addr::new(198, 51, 100, 1)).await;
    let own = FakeUpstream::start(ip(test, 99), Ipv4Addr::new(198, 51, 100, 2)).await;
    let mut builder = RecordSet::builder();
    builder
        .upstreams(vec![default.address])
        .endpoint(Endpoint::new(net("front"), name("plain")).ipv4(ip(test, 11)))
        .endpoint(
            Endpoint::new(net("front"), name("custom"))
                .ipv4(ip(test, 12))
                .upstreams(vec![own.address]),
        );
    let server = DnsServer::new(builder.build().unwrap(), fast_options());
    let front = serve(&server, "front", ip(test, 1)).await;

    let reply = ask_udp(ip(test, 11), front.address, "ok.example.", RecordType::A).await;
    assert_eq!(
        addresses(&reply),
        vec![IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1))]
    );
    let reply = ask_udp(ip(test, 12), front.address, "ok.example.", RecordType::A).await;
    assert_eq!(
        addresses(&reply),
        vec![IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2))]
    );
    assert_eq!((default.queries(), own.queries()), (1, 1));
    front.stop().await;
}

#[tokio::test]
async fn tcp_answers_and_truncated_replies_move_to_tcp() {
    let test = 6;
    let upstream = FakeUpstream::start(ip(test, 99), Ipv4Addr::new(198, 51, 100, 1)).await;
    let server = DnsServer::new(two_networks(test, vec![upstream.address]), fast_options());
    let front = serve(&server, "front", ip(test, 1)).await;

    let reply = ask_tcp(ip(test, 13), front.address, "web.", RecordType::A).await;
    assert_eq!(addresses(&reply).len(), 2);

    // The upstream truncates over UDP; the server retries it over TCP, gets
    // 40 records, which do not fit a 512-byte UDP reply, so our client is
    // told to retry over TCP, where it gets all of them.
    let reply = ask_udp(ip(test, 13), front.address, "big.example.", RecordType::A).await;
    assert!(reply.truncated());
    assert!(reply.answers().is_empty());
    let reply = ask_tcp(ip(test, 13), front.address, "big.example.", RecordType::A).await;
    assert!(!reply.truncated());
    assert_eq!(addresses(&reply).len(), 40);
    // Each forward of big.example went to the upstream over UDP, then TCP.
    assert_eq!(upstream.queries(), 4);
    front.stop().await;
}

#[tokio::test]
async fn many_replicas_fit_edns_or_move_to_tcp() {
    let test = 10;
    let mut builder = RecordSet::builder();
    for host in 11..=70 {
        builder.endpoint(
            Endpoint::new(net("front"), name(&format!("shop-worker-{host}")))
                .alias(name("worker"))
                .ipv4(ip(test, host)),
        );
    }
    let server = DnsServer::new(builder.build().unwrap(), fast_options());
    let front = serve(&server, "front", ip(test, 1)).await;

    // 60 A records are about 1 KB: too big for plain 512-byte UDP...
    let reply = ask_udp(ip(test, 11), front.address, "worker.", RecordType::A).await;
    assert!(reply.truncated());
    assert!(reply.answers().is_empty());
    // ...but fine with EDNS, or over TCP.
    let mut query = query_message("worker.", RecordType::A);
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    query.set_edns(edns);
    let reply = ask_udp_bytes(ip(test, 11), front.address, &query.to_vec().unwrap()).await;
    assert!(!reply.truncated());
    assert_eq!(addresses(&reply).len(), 60);
    assert!(reply.extensions().is_some());
    let reply = ask_tcp(ip(test, 11), front.address, "worker.", RecordType::A).await;
    assert_eq!(addresses(&reply).len(), 60);
    front.stop().await;
}

#[tokio::test]
async fn updates_are_visible_without_a_restart() {
    let test = 7;
    let upstream = FakeUpstream::start(ip(test, 99), Ipv4Addr::new(198, 51, 100, 1)).await;
    let server = DnsServer::new(two_networks(test, vec![upstream.address]), fast_options());
    let front = serve(&server, "front", ip(test, 1)).await;

    let reply = ask_udp(ip(test, 11), front.address, "cache.", RecordType::A).await;
    assert_eq!(reply.response_code(), ResponseCode::NXDomain);
    assert_eq!(upstream.queries(), 1, "an unknown name is forwarded");

    let mut builder = RecordSet::builder();
    builder
        .upstreams(vec![upstream.address])
        .endpoint(Endpoint::new(net("front"), name("shop-web-1")).ipv4(ip(test, 11)))
        .endpoint(
            Endpoint::new(net("front"), name("shop-cache-1"))
                .alias(name("cache"))
                .ipv4(ip(test, 14)),
        );
    server.update(builder.build().unwrap());

    let reply = ask_udp(ip(test, 11), front.address, "cache.", RecordType::A).await;
    assert_eq!(addresses(&reply), vec![IpAddr::V4(ip(test, 14))]);
    // The replicas of `web` that left are gone.
    let reply = ask_udp(ip(test, 11), front.address, "shop-web-2.", RecordType::A).await;
    assert_eq!(reply.response_code(), ResponseCode::NXDomain);
    front.stop().await;
}

#[tokio::test]
async fn stopping_a_listener_releases_its_address() {
    let test = 8;
    let server = DnsServer::new(two_networks(test, vec![]), fast_options());
    let front = serve(&server, "front", ip(test, 1)).await;
    let address = front.address;
    // An open TCP connection must not keep the listener alive.
    let idle = TcpStream::connect(address).await.unwrap();
    front.stop().await;
    drop(idle);
    let again = Listener::bind(net("front"), address).await.unwrap();
    assert_eq!(again.local_addr().unwrap(), address);
}

#[tokio::test]
async fn malformed_queries_get_formerr_and_responses_are_ignored() {
    let test = 9;
    let server = DnsServer::new(two_networks(test, vec![]), fast_options());
    let front = serve(&server, "front", ip(test, 1)).await;
    let socket = UdpSocket::bind((ip(test, 11), 0)).await.unwrap();

    // A header claiming one question, followed by garbage.
    let mut garbage = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    garbage.extend_from_slice(&[0xff; 5]);
    socket.send_to(&garbage, front.address).await.unwrap();
    let mut buffer = vec![0u8; 512];
    let (length, _) = timeout(PATIENCE, socket.recv_from(&mut buffer))
        .await
        .unwrap()
        .unwrap();
    let reply = Message::from_vec(&buffer[..length]).unwrap();
    assert_eq!(
        (reply.id(), reply.response_code()),
        (0x1234, ResponseCode::FormErr)
    );

    // A response sent to the server gets no answer; the next query still does.
    let mut response = Message::from_vec(&query_bytes("web.", RecordType::A)).unwrap();
    response.set_message_type(MessageType::Response);
    socket
        .send_to(&response.to_vec().unwrap(), front.address)
        .await
        .unwrap();
    let reply = ask_udp(ip(test, 11), front.address, "web.", RecordType::A).await;
    assert_eq!(addresses(&reply).len(), 2);
    assert!(
        timeout(Duration::from_millis(100), socket.recv_from(&mut buffer))
            .await
            .is_err(),
        "a response must not be answered"
    );
    front.stop().await;
}
