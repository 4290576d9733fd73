//! Properties: any split of the received bytes and any interleaving of sends with writes
//! give the same messages and the same bytes on the wire.

use proptest::prelude::*;
use ws_frame::{Config, Connection, Fin, Message, OpCode, Outgoing};

#[derive(Debug, Clone)]
enum Op {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Fragments(Vec<Vec<u8>>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        ".{0,40}".prop_map(Op::Text),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Op::Binary),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(Op::Ping),
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..50), 1..5)
            .prop_map(Op::Fragments),
    ]
}

fn send(conn: &mut Connection, op: &Op) {
    match op {
        Op::Text(t) => conn.send(Outgoing::Text(t)).map(|_| ()),
        Op::Binary(b) => conn.send(Outgoing::Binary(b)).map(|_| ()),
        Op::Ping(p) => conn.send(Outgoing::Ping(p)).map(|_| ()),
        Op::Fragments(pieces) => pieces.iter().enumerate().try_for_each(|(i, piece)| {
            let opcode = if i == 0 {
                OpCode::Binary
            } else {
                OpCode::Continuation
            };
            conn.send(Outgoing::Fragment {
                opcode,
                payload: piece,
                fin: Fin::from(i + 1 == pieces.len()),
            })
            .map(|_| ())
        }),
    }
    .unwrap();
}

fn expected(op: &Op) -> Message {
    match op {
        Op::Text(t) => Message::Text(t.clone()),
        Op::Binary(b) => Message::Binary(b.clone()),
        Op::Ping(p) => Message::Ping(p.clone()),
        Op::Fragments(pieces) => Message::Binary(pieces.concat()),
    }
}

proptest! {
    #[test]
    fn interleaving_writes_with_sends_gives_the_same_wire(
        ops in proptest::collection::vec(op(), 0..12),
        writes in proptest::collection::vec(0usize..64, 12),
    ) {
        let mut reference = Connection::client(Config::new(), super::keys());
        for op in &ops {
            send(&mut reference, op);
        }
        let whole = reference.poll_transmit().to_vec();

        let mut conn = Connection::client(Config::new(), super::keys());
        let mut wire = Vec::new();
        for (op, write) in ops.iter().zip(&writes) {
            send(&mut conn, op);
            let n = (*write).min(conn.poll_transmit().len());
            wire.extend_from_slice(&conn.poll_transmit()[..n]);
            conn.advance(n);
        }
        wire.extend_from_slice(conn.poll_transmit());
        prop_assert_eq!(wire, whole);
    }

    #[test]
    fn any_split_of_the_input_gives_the_same_messages_and_replies(
        ops in proptest::collection::vec(op(), 0..12),
        splits in proptest::collection::vec(1usize..40, 1..30),
    ) {
        let mut client = Connection::client(Config::new(), super::keys());
        for op in &ops {
            send(&mut client, op);
        }
        let wire = client.poll_transmit().to_vec();

        let mut server = Connection::server(Config::new());
        let mut got = Vec::new();
        let mut at = 0;
        let mut i = 0;
        while at < wire.len() {
            let n = splits[i % splits.len()].min(wire.len() - at);
            server.receive(&wire[at..at + n]);
            at += n;
            i += 1;
            while let Some(m) = server.poll_message().unwrap() {
                got.push(m);
            }
        }
        let want: Vec<Message> = ops.iter().map(expected).collect();
        prop_assert_eq!(got, want);

        // The pongs are the same bytes as when the input came whole.
        let mut whole = Connection::server(Config::new());
        whole.receive(&wire);
        while whole.poll_message().unwrap().is_some() {}
        prop_assert_eq!(server.poll_transmit(), whole.poll_transmit());
    }
}
