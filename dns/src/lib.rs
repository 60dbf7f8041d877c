//! `stack-dns`: the embedded DNS server answering container names per network.
