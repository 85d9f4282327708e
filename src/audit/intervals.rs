//! Interval sets: port sets, protocol-keyed connection sets, and IP address ranges.
//!
//! Everything the engine allows is a union of closed intervals: ports `1-65535` per protocol,
//! IPv4 addresses as `u128` values below 2^32, IPv6 addresses as `u128`. [`IntervalSet`] keeps its
//! intervals sorted, disjoint and non-adjacent, so equal sets compare equal and print the same.
//! This module knows nothing of Kubernetes objects and never allocates per address or per port.

use std::fmt;

/// A set of `u128` values as sorted, disjoint, non-adjacent closed intervals.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IntervalSet {
    ranges: Vec<(u128, u128)>,
}

impl IntervalSet {
    /// The empty set.
    pub fn empty() -> Self {
        Self { ranges: Vec::new() }
    }

    /// The closed interval `lo..=hi` (empty when `lo > hi`).
    pub fn range(lo: u128, hi: u128) -> Self {
        if lo > hi {
            return Self::empty();
        }
        Self {
            ranges: vec![(lo, hi)],
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The intervals, sorted.
    pub fn ranges(&self) -> &[(u128, u128)] {
        &self.ranges
    }

    /// Whether `v` is in the set.
    pub fn contains(&self, v: u128) -> bool {
        match self.ranges.binary_search_by(|&(lo, _)| lo.cmp(&v)) {
            Ok(_) => true,
            Err(0) => false,
            Err(i) => self.ranges[i - 1].1 >= v,
        }
    }

    /// Add the interval `lo..=hi`.
    pub fn insert(&mut self, lo: u128, hi: u128) {
        if lo > hi {
            return;
        }
        let other = Self::range(lo, hi);
        *self = self.union(&other);
    }

    /// `self ∪ other`.
    pub fn union(&self, other: &Self) -> Self {
        if other.ranges.is_empty() {
            return self.clone();
        }
        if self.ranges.is_empty() {
            return other.clone();
        }
        let mut all: Vec<(u128, u128)> = Vec::with_capacity(self.ranges.len() + other.ranges.len());
        let (mut i, mut j) = (0, 0);
        while i < self.ranges.len() || j < other.ranges.len() {
            let take_self = j >= other.ranges.len()
                || (i < self.ranges.len() && self.ranges[i].0 <= other.ranges[j].0);
            let r = if take_self {
                i += 1;
                self.ranges[i - 1]
            } else {
                j += 1;
                other.ranges[j - 1]
            };
            push_merge(&mut all, r);
        }
        Self { ranges: all }
    }

    /// `self ∩ other`.
    pub fn intersect(&self, other: &Self) -> Self {
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a, b) = (self.ranges[i], other.ranges[j]);
            let lo = a.0.max(b.0);
            let hi = a.1.min(b.1);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a.1 < b.1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        Self { ranges: out }
    }

    /// `self \ other`.
    pub fn subtract(&self, other: &Self) -> Self {
        let mut out = Vec::new();
        let mut j = 0;
        for &(lo, hi) in &self.ranges {
            let mut cur = lo;
            let mut done = false;
            while j < other.ranges.len() && other.ranges[j].1 < cur {
                j += 1;
            }
            let mut k = j;
            while k < other.ranges.len() && other.ranges[k].0 <= hi {
                let (olo, ohi) = other.ranges[k];
                if olo > cur {
                    out.push((cur, olo - 1));
                }
                if ohi >= hi {
                    done = true;
                    break;
                }
                cur = ohi + 1;
                k += 1;
            }
            if !done {
                out.push((cur, hi));
            }
        }
        Self { ranges: out }
    }

    /// Whether `self ⊆ other`.
    pub fn is_subset(&self, other: &Self) -> bool {
        self.subtract(other).is_empty()
    }
}

fn push_merge(out: &mut Vec<(u128, u128)>, r: (u128, u128)) {
    if let Some(last) = out.last_mut() {
        if r.0 <= last.1.saturating_add(1) {
            last.1 = last.1.max(r.1);
            return;
        }
    }
    out.push(r);
}

/// The highest port number.
pub const MAX_PORT: u128 = 65535;

pub use crate::spec::model::Protocol;

/// A manifest's `protocol` field: absent means TCP; the API accepts exactly `TCP`, `UDP` and
/// `SCTP`. The error is the message for an unsupported value.
pub fn protocol_field(s: Option<&str>) -> Result<Protocol, String> {
    match s {
        None => Ok(Protocol::Tcp),
        Some(s) if s == s.to_ascii_uppercase() => Protocol::parse(s)
            .ok_or_else(|| format!("unsupported protocol `{s}` (TCP, UDP or SCTP)")),
        Some(s) => Err(format!("unsupported protocol `{s}` (TCP, UDP or SCTP)")),
    }
}

/// The slot of a protocol in [`Conns`].
fn index(p: Protocol) -> usize {
    match p {
        Protocol::Tcp => 0,
        Protocol::Udp => 1,
        Protocol::Sctp => 2,
    }
}

/// A set of connections: for each protocol, a set of ports.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Conns {
    ports: [IntervalSet; 3],
}

impl Conns {
    /// No connection at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// Every port of every protocol.
    pub fn all() -> Self {
        let full = IntervalSet::range(1, MAX_PORT);
        Self {
            ports: [full.clone(), full.clone(), full],
        }
    }

    /// Ports `lo..=hi` of one protocol.
    pub fn ports(proto: Protocol, lo: u128, hi: u128) -> Self {
        let mut c = Self::none();
        c.ports[index(proto)] = IntervalSet::range(lo.max(1), hi.min(MAX_PORT));
        c
    }

    /// Every port of one protocol.
    pub fn protocol(proto: Protocol) -> Self {
        Self::ports(proto, 1, MAX_PORT)
    }

    /// The ports of one protocol.
    pub fn of(&self, proto: Protocol) -> &IntervalSet {
        &self.ports[index(proto)]
    }

    /// Whether nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.ports.iter().all(IntervalSet::is_empty)
    }

    /// Whether everything is allowed.
    pub fn is_all(&self) -> bool {
        *self == Self::all()
    }

    /// Whether `port/proto` is allowed.
    pub fn contains(&self, proto: Protocol, port: u128) -> bool {
        self.ports[index(proto)].contains(port)
    }

    /// `self ∪ other`.
    pub fn union(&self, other: &Self) -> Self {
        Self {
            ports: std::array::from_fn(|i| self.ports[i].union(&other.ports[i])),
        }
    }

    /// Add `other` into `self`.
    pub fn add(&mut self, other: &Self) {
        if other.is_empty() {
            return;
        }
        for i in 0..3 {
            if !other.ports[i].is_empty() {
                self.ports[i] = self.ports[i].union(&other.ports[i]);
            }
        }
    }

    /// `self ∩ other`.
    pub fn intersect(&self, other: &Self) -> Self {
        Self {
            ports: std::array::from_fn(|i| self.ports[i].intersect(&other.ports[i])),
        }
    }

    /// `self \ other`.
    pub fn subtract(&self, other: &Self) -> Self {
        Self {
            ports: std::array::from_fn(|i| self.ports[i].subtract(&other.ports[i])),
        }
    }

    /// Whether `self ⊆ other`.
    pub fn is_subset(&self, other: &Self) -> bool {
        (0..3).all(|i| self.ports[i].is_subset(&other.ports[i]))
    }
}

impl fmt::Display for Conns {
    /// `All`, or `TCP 80,8000-8010;UDP 53` (protocols in TCP, UDP, SCTP order; a protocol with
    /// every port prints as `TCP 1-65535`). The empty set prints as `None`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("All");
        }
        if self.is_empty() {
            return f.write_str("None");
        }
        let mut first = true;
        for p in Protocol::ALL {
            let set = self.of(p);
            if set.is_empty() {
                continue;
            }
            if !first {
                f.write_str(";")?;
            }
            first = false;
            write!(f, "{} ", p.as_str())?;
            for (i, &(lo, hi)) in set.ranges().iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                if lo == hi {
                    write!(f, "{lo}")?;
                } else {
                    write!(f, "{lo}-{hi}")?;
                }
            }
        }
        Ok(())
    }
}

/// An IP address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// IPv4: values `0..2^32`.
    V4,
    /// IPv6: every `u128`.
    V6,
}

impl Family {
    /// The highest address value of the family.
    pub fn max(self) -> u128 {
        match self {
            Family::V4 => u32::MAX as u128,
            Family::V6 => u128::MAX,
        }
    }
}

/// A set of IP addresses: one interval set per family.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct IpSet {
    /// IPv4 addresses.
    pub v4: IntervalSet,
    /// IPv6 addresses.
    pub v6: IntervalSet,
}

impl IpSet {
    /// Every address of both families.
    pub fn all() -> Self {
        Self {
            v4: IntervalSet::range(0, Family::V4.max()),
            v6: IntervalSet::range(0, Family::V6.max()),
        }
    }

    /// The addresses of one network.
    pub fn net(net: &ipnet::IpNet) -> Self {
        let mut s = Self::default();
        match net {
            ipnet::IpNet::V4(n) => {
                s.v4 = IntervalSet::range(
                    u32::from(n.network()) as u128,
                    u32::from(n.broadcast()) as u128,
                )
            }
            ipnet::IpNet::V6(n) => {
                s.v6 = IntervalSet::range(u128::from(n.network()), u128::from(n.broadcast()))
            }
        }
        s
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// `self ∪ other`.
    pub fn union(&self, other: &Self) -> Self {
        Self {
            v4: self.v4.union(&other.v4),
            v6: self.v6.union(&other.v6),
        }
    }

    /// `self \ other`.
    pub fn subtract(&self, other: &Self) -> Self {
        Self {
            v4: self.v4.subtract(&other.v4),
            v6: self.v6.subtract(&other.v6),
        }
    }

    /// The set for one family.
    pub fn family(&self, f: Family) -> &IntervalSet {
        match f {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }
}

/// Format an address value of a family.
pub fn addr_to_string(f: Family, v: u128) -> String {
    match f {
        Family::V4 => std::net::Ipv4Addr::from(v as u32).to_string(),
        Family::V6 => std::net::Ipv6Addr::from(v).to_string(),
    }
}

/// Format the range `lo..=hi` as a CIDR when it is exactly one, else as `lo-hi`.
pub fn range_to_string(f: Family, lo: u128, hi: u128) -> String {
    let bits: u32 = match f {
        Family::V4 => 32,
        Family::V6 => 128,
    };
    let size = hi.wrapping_sub(lo).wrapping_add(1);
    // The whole IPv6 space has size 2^128, which wraps to 0.
    let (is_pow2, host_bits) = if size == 0 {
        (true, 128)
    } else {
        (size.is_power_of_two(), size.trailing_zeros())
    };
    let aligned = host_bits >= 128 || lo & ((1u128 << host_bits) - 1) == 0;
    if is_pow2 && aligned && host_bits <= bits {
        format!("{}/{}", addr_to_string(f, lo), bits - host_bits)
    } else {
        format!("{}-{}", addr_to_string(f, lo), addr_to_string(f, hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(r: &[(u128, u128)]) -> IntervalSet {
        let mut s = IntervalSet::empty();
        for &(a, b) in r {
            s.insert(a, b);
        }
        s
    }

    #[test]
    fn union_merges_adjacent_and_overlapping() {
        assert_eq!(
            set(&[(1, 3), (4, 6), (10, 12), (11, 20)]).ranges(),
            &[(1, 6), (10, 20)]
        );
    }

    #[test]
    fn subtract_carves_holes() {
        let s = set(&[(0, 100)]).subtract(&set(&[(10, 20), (50, 50), (90, 200)]));
        assert_eq!(s.ranges(), &[(0, 9), (21, 49), (51, 89)]);
        assert!(set(&[(5, 6)]).subtract(&set(&[(0, 10)])).is_empty());
    }

    #[test]
    fn intersect_and_contains() {
        let s = set(&[(0, 10), (20, 30)]).intersect(&set(&[(5, 25)]));
        assert_eq!(s.ranges(), &[(5, 10), (20, 25)]);
        assert!(s.contains(5) && s.contains(22) && !s.contains(15) && !s.contains(26));
    }

    #[test]
    fn conns_display() {
        let c = Conns::ports(Protocol::Tcp, 80, 80)
            .union(&Conns::ports(Protocol::Tcp, 8000, 8010))
            .union(&Conns::ports(Protocol::Udp, 53, 53));
        assert_eq!(c.to_string(), "TCP 80,8000-8010;UDP 53");
        assert_eq!(Conns::all().to_string(), "All");
        assert_eq!(Conns::protocol(Protocol::Sctp).to_string(), "SCTP 1-65535");
    }

    #[test]
    fn ranges_print_as_cidr_when_aligned() {
        assert_eq!(
            range_to_string(Family::V4, 0, u32::MAX as u128),
            "0.0.0.0/0"
        );
        assert_eq!(
            range_to_string(Family::V4, 0x0a000000, 0x0a0000ff),
            "10.0.0.0/24"
        );
        assert_eq!(
            range_to_string(Family::V4, 0x0a000000, 0x0a000100),
            "10.0.0.0-10.0.1.0"
        );
        assert_eq!(range_to_string(Family::V6, 0, u128::MAX), "::/0");
        assert_eq!(range_to_string(Family::V4, 7, 7), "0.0.0.7/32");
    }
}
