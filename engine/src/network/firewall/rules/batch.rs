//! The rule set as `nftables` crate objects: one batch for `nft -j -f`.

use ipnet::Ipv4Net;
use nftables::batch::Batch;
use nftables::expr::{Expression, Fib, FibFlag, FibResult, Meta, MetaKey, NamedExpression};
use nftables::expr::{Payload, PayloadField, Prefix, CT};
use nftables::schema::{self, Chain, NfListObject, Nftables, Table};
use nftables::stmt::{Match, Operator, Statement, NAT};
use nftables::types::{NfChainPolicy, NfFamily};

use super::{Action, Cond, Dir, Hook, RuleSet, BRIDGES_SET};

fn table(name: &str) -> Table<'static> {
    Table {
        family: NfFamily::IP,
        name: name.to_owned().into(),
        handle: None,
    }
}

fn matches(
    left: Expression<'static>,
    right: Expression<'static>,
    op: Operator,
) -> Statement<'static> {
    Statement::Match(Match { left, right, op })
}

fn op(positive: bool) -> Operator {
    if positive {
        Operator::EQ
    } else {
        Operator::NEQ
    }
}

fn addr_expr(net: &Ipv4Net) -> Expression<'static> {
    if net.prefix_len() == 32 {
        Expression::String(net.addr().to_string().into())
    } else {
        Expression::Named(NamedExpression::Prefix(Prefix {
            addr: Box::new(Expression::String(net.network().to_string().into())),
            len: u32::from(net.prefix_len()),
        }))
    }
}

fn payload(protocol: &'static str, field: &'static str) -> Expression<'static> {
    Expression::Named(NamedExpression::Payload(Payload::PayloadField(
        PayloadField {
            protocol: protocol.into(),
            field: field.into(),
        },
    )))
}

fn ct(key: &'static str) -> Expression<'static> {
    Expression::Named(NamedExpression::CT(CT {
        key: key.into(),
        family: None,
        dir: None,
    }))
}

fn meta(dir: Dir) -> Expression<'static> {
    let key = match dir {
        Dir::In => MetaKey::Iifname,
        Dir::Out => MetaKey::Oifname,
    };
    Expression::Named(NamedExpression::Meta(Meta { key }))
}

impl Cond {
    fn statement(&self) -> Statement<'static> {
        match self {
            Cond::If(dir, name, pos) => matches(
                meta(*dir),
                Expression::String(name.clone().into()),
                op(*pos),
            ),
            Cond::IfBridges(dir) => matches(
                meta(*dir),
                Expression::String(format!("@{BRIDGES_SET}").into()),
                Operator::EQ,
            ),
            Cond::Saddr(net, pos) => matches(payload("ip", "saddr"), addr_expr(net), op(*pos)),
            Cond::Daddr(net, pos) => matches(payload("ip", "daddr"), addr_expr(net), op(*pos)),
            Cond::DaddrLocal => matches(
                Expression::Named(NamedExpression::Fib(Fib {
                    result: FibResult::Type,
                    flags: [FibFlag::Daddr].into_iter().collect(),
                })),
                Expression::String("local".into()),
                Operator::EQ,
            ),
            Cond::Established => matches(
                ct("state"),
                Expression::List(vec![
                    Expression::String("established".into()),
                    Expression::String("related".into()),
                ]),
                Operator::IN,
            ),
            Cond::Dnatted => matches(
                ct("status"),
                Expression::String("dnat".into()),
                Operator::IN,
            ),
            Cond::Dport(proto, port) => matches(
                payload(proto.as_str(), "dport"),
                Expression::Number(u32::from(*port)),
                Operator::EQ,
            ),
        }
    }
}

impl Action {
    fn statement(&self) -> Statement<'static> {
        match self {
            Action::Accept => Statement::Accept(None),
            Action::Drop => Statement::Drop(None),
            Action::Masquerade => Statement::Masquerade(None),
            Action::Dnat(ip, port) => Statement::DNAT(Some(NAT {
                addr: Some(Expression::String(ip.to_string().into())),
                family: None,
                port: Some(Expression::Number(u32::from(*port))),
                flags: None,
            })),
        }
    }
}

impl RuleSet {
    /// One transaction that replaces the table with this rule set. The
    /// leading "add table" makes the "delete table" succeed when the table
    /// does not exist yet; if any later command fails, nft rolls back the
    /// whole batch and the old table stays in place.
    pub fn to_batch(&self, table_name: &str) -> Nftables<'static> {
        let mut batch = Batch::new();
        batch.add(NfListObject::Table(table(table_name)));
        batch.delete(NfListObject::Table(table(table_name)));
        batch.add(NfListObject::Table(table(table_name)));
        batch.add(NfListObject::Set(Box::new(schema::Set {
            family: NfFamily::IP,
            table: table_name.to_owned().into(),
            name: BRIDGES_SET.into(),
            set_type: schema::SetTypeValue::Single(schema::SetType::Ifname),
            elem: (!self.bridges.is_empty()).then(|| {
                self.bridges
                    .iter()
                    .map(|b| Expression::String(b.clone().into()))
                    .collect::<Vec<_>>()
                    .into()
            }),
            ..schema::Set::default()
        })));
        for hook in Hook::ALL {
            let (kind, nf_hook, prio, _) = hook.base();
            batch.add(NfListObject::Chain(Chain {
                family: NfFamily::IP,
                table: table_name.to_owned().into(),
                name: hook.name().into(),
                _type: Some(kind),
                hook: Some(nf_hook),
                prio: Some(prio),
                policy: Some(NfChainPolicy::Accept),
                ..Chain::default()
            }));
        }
        for r in &self.rules {
            let mut expr: Vec<Statement<'static>> = r.conds.iter().map(Cond::statement).collect();
            expr.push(r.action.statement());
            batch.add(NfListObject::Rule(schema::Rule {
                family: NfFamily::IP,
                table: table_name.to_owned().into(),
                chain: r.hook.name().into(),
                expr: expr.into(),
                ..schema::Rule::default()
            }));
        }
        batch.to_nftables()
    }
}

/// One transaction that removes the table if it exists (and does nothing
/// otherwise), so removal can be repeated.
pub fn removal_batch(table_name: &str) -> Nftables<'static> {
    let mut batch = Batch::new();
    batch.add(NfListObject::Table(table(table_name)));
    batch.delete(NfListObject::Table(table(table_name)));
    batch.to_nftables()
}
