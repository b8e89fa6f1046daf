//! Structure-aware mutations of valid requests: each changes one thing the module validates
//! (an attribute's presence, type, length, value or nesting, the header, the flags) so that a
//! rejection can be traced to one cause.

use nd_netlink_proto::attr::{top, weight_entry};
use nd_netlink_proto::cmd::Cmd;
use nd_netlink_proto::family::{
    MAX_CONN_LIMIT, MAX_SERVERS_PER_PORT, MAX_TIMEOUT_SECS, MAX_WEIGHT,
};
use nd_netlink_proto::nla::HEADER_LEN;
use ndadm::client::WEIGHTS_ELEMENT;

use super::generate::random_attribute;
use super::message::{flags, Attribute, Body, GenlRequest, NLA_F_NESTED, NLA_F_NET_BYTEORDER};
use crate::prng::Prng;

/// One kind of change to a valid request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mutation {
    /// Removes an attribute, top-level or nested.
    DropAttribute,
    /// Repeats an attribute at a random place in its list.
    RepeatAttribute,
    /// Gives an attribute another type number: unused, out of range or another valid one.
    RetypeAttribute,
    /// Cuts an attribute's payload short.
    TruncatePayload,
    /// Appends bytes to an attribute's payload.
    ExtendPayload,
    /// Sets a value to an extreme: weight `u32::MAX`, port 0, 0.0.0.0, 255.255.255.255, ...
    ExtremeValue,
    /// Gives an address attribute a length other than four bytes.
    WrongLengthAddress,
    /// Puts malformed elements into the `WEIGHTS` array (adding one if there is none).
    GarbageInWeights,
    /// Turns a plain attribute into a nest.
    NestInsidePlain,
    /// Makes an attribute's length field disagree with its payload.
    LyingLength,
    /// Adds an attribute of a type beyond the module's numbering.
    UnknownAttribute,
    /// Toggles `NLM_F_ACK`, `NLM_F_DUMP` or another netlink flag.
    FlipFlags,
    /// Sends the attributes under another command number.
    OtherCommand,
    /// Appends unaligned bytes after the last attribute.
    TrailingBytes,
    /// Changes the generic netlink header's version or reserved field.
    OddGenlHeader,
}

impl Mutation {
    /// Every mutation.
    pub const ALL: [Mutation; 15] = [
        Mutation::DropAttribute,
        Mutation::RepeatAttribute,
        Mutation::RetypeAttribute,
        Mutation::TruncatePayload,
        Mutation::ExtendPayload,
        Mutation::ExtremeValue,
        Mutation::WrongLengthAddress,
        Mutation::GarbageInWeights,
        Mutation::NestInsidePlain,
        Mutation::LyingLength,
        Mutation::UnknownAttribute,
        Mutation::FlipFlags,
        Mutation::OtherCommand,
        Mutation::TrailingBytes,
        Mutation::OddGenlHeader,
    ];

    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Mutation::DropAttribute => "drop_attribute",
            Mutation::RepeatAttribute => "repeat_attribute",
            Mutation::RetypeAttribute => "retype_attribute",
            Mutation::TruncatePayload => "truncate_payload",
            Mutation::ExtendPayload => "extend_payload",
            Mutation::ExtremeValue => "extreme_value",
            Mutation::WrongLengthAddress => "wrong_length_address",
            Mutation::GarbageInWeights => "garbage_in_weights",
            Mutation::NestInsidePlain => "nest_inside_plain",
            Mutation::LyingLength => "lying_length",
            Mutation::UnknownAttribute => "unknown_attribute",
            Mutation::FlipFlags => "flip_flags",
            Mutation::OtherCommand => "other_command",
            Mutation::TrailingBytes => "trailing_bytes",
            Mutation::OddGenlHeader => "odd_genl_header",
        }
    }
}

/// Applies up to `count` randomly chosen mutations that fit `request`; returns those applied.
pub fn mutate(request: &mut GenlRequest, rng: &mut Prng, count: usize) -> Vec<Mutation> {
    let mut applied = Vec::with_capacity(count);
    for _ in 0..count {
        // A request without attributes fits only some mutations; a few draws find one.
        for _ in 0..8 {
            let mutation = *rng.pick(&Mutation::ALL);
            if apply(mutation, request, rng) {
                applied.push(mutation);
                break;
            }
        }
    }
    applied
}

/// Applies `mutation` to `request`; false, with `request` unchanged, if it does not fit (no
/// attribute to drop, no address to lengthen, ...).
pub fn apply(mutation: Mutation, request: &mut GenlRequest, rng: &mut Prng) -> bool {
    let sites = sites(&request.attrs);
    match mutation {
        Mutation::DropAttribute => {
            let Some(site) = pick(&sites, rng, |_| true) else {
                return false;
            };
            let (index, parent) = site.path.split_last().expect("paths are not empty");
            list_mut(&mut request.attrs, parent).remove(*index);
        }
        Mutation::RepeatAttribute => {
            let Some(site) = pick(&sites, rng, |_| true) else {
                return false;
            };
            let copy = at_mut(&mut request.attrs, &site.path).clone();
            let list = list_mut(&mut request.attrs, &site.path[..site.path.len() - 1]);
            let at = rng.index(list.len() + 1);
            list.insert(at, copy);
        }
        Mutation::RetypeAttribute => {
            let Some(site) = pick(&sites, rng, |_| true) else {
                return false;
            };
            let attr = at_mut(&mut request.attrs, &site.path);
            attr.type_field = other_type(attr.type_field, site.space, rng);
        }
        Mutation::TruncatePayload => {
            let Some(site) = pick(&sites, rng, |s| s.payload_len > 0) else {
                return false;
            };
            let attr = at_mut(&mut request.attrs, &site.path);
            let mut payload = attr.payload();
            payload.truncate(rng.index(payload.len()));
            attr.body = Body::Bytes(payload);
        }
        Mutation::ExtendPayload => {
            let Some(site) = pick(&sites, rng, |_| true) else {
                return false;
            };
            let attr = at_mut(&mut request.attrs, &site.path);
            let mut payload = attr.payload();
            let extra = rng.between(1, 8) as usize;
            payload.extend(rng.bytes(extra));
            attr.body = Body::Bytes(payload);
        }
        Mutation::ExtremeValue => {
            let fits = |s: &Site| !s.nested && !extremes(s.space, s.kind).is_empty();
            let Some(site) = pick(&sites, rng, fits) else {
                return false;
            };
            let attr = at_mut(&mut request.attrs, &site.path);
            let current = attr.payload();
            let choices: Vec<Vec<u8>> = extremes(site.space, site.kind)
                .into_iter()
                .filter(|value| *value != current)
                .collect();
            attr.body = Body::Bytes(rng.pick(&choices).clone());
        }
        Mutation::WrongLengthAddress => {
            let Some(site) = pick(&sites, rng, |s| !s.nested && is_address(s.space, s.kind)) else {
                return false;
            };
            let attr = at_mut(&mut request.attrs, &site.path);
            let current = attr.payload();
            let len = loop {
                let len = *rng.pick(&[0usize, 1, 2, 3, 5, 6, 8, 16]);
                if len != current.len() {
                    break len;
                }
            };
            let mut payload: Vec<u8> = current.iter().copied().cycle().take(len).collect();
            payload.resize(len, 0);
            attr.body = Body::Bytes(payload);
        }
        Mutation::GarbageInWeights => garbage_in_weights(request, rng),
        Mutation::NestInsidePlain => {
            let Some(site) = pick(&sites, rng, |s| !s.nested) else {
                return false;
            };
            let attr = at_mut(&mut request.attrs, &site.path);
            let inner = Attribute::bytes(1, &attr.payload());
            attr.type_field |= NLA_F_NESTED;
            attr.body = Body::Nest(vec![inner]);
        }
        Mutation::LyingLength => {
            let Some(site) = pick(&sites, rng, |_| true) else {
                return false;
            };
            let attr = at_mut(&mut request.attrs, &site.path);
            let true_len = attr.true_len() as u16;
            let written = attr.length_lie.unwrap_or(true_len);
            let lie = loop {
                let lie = match rng.below(5) {
                    0 => rng.below(HEADER_LEN as u64) as u16,
                    1 => true_len.saturating_add(rng.between(1, 3) as u16),
                    2 => true_len.saturating_add(rng.between(4, 64) as u16),
                    3 => u16::MAX,
                    _ => true_len.saturating_sub(rng.between(1, 3) as u16),
                };
                if lie != written && lie != true_len {
                    break lie;
                }
            };
            attr.length_lie = Some(lie);
        }
        Mutation::UnknownAttribute => {
            let kind = if rng.chance(70) {
                top::MAX + 1 + rng.below(64) as u16
            } else {
                rng.between(0x100, 0x3fff) as u16
            };
            let len = rng.below(17) as usize;
            let at = rng.index(request.attrs.len() + 1);
            request
                .attrs
                .insert(at, Attribute::bytes(kind, &rng.bytes(len)));
        }
        Mutation::FlipFlags => {
            let toggles = [
                flags::ACK,
                flags::DUMP,
                flags::ROOT,
                flags::MATCH,
                flags::ECHO,
                flags::ATOMIC,
            ];
            request.netlink_flags ^= *rng.pick(&toggles);
        }
        Mutation::OtherCommand => {
            request.cmd = loop {
                let cmd = if rng.chance(70) {
                    rng.between(1, u64::from(Cmd::MAX)) as u8
                } else {
                    rng.between(u64::from(Cmd::MAX) + 1, 255) as u8
                };
                if cmd != request.cmd {
                    break cmd;
                }
            };
        }
        Mutation::TrailingBytes => {
            let len = rng.between(1, 7) as usize;
            request.trailer.extend(rng.bytes(len));
        }
        Mutation::OddGenlHeader => {
            if rng.chance(50) {
                request.version = request.version.wrapping_add(rng.between(1, 255) as u8);
            } else {
                request.reserved = request.reserved.wrapping_add(rng.between(1, 0xffff) as u16);
            }
        }
    }
    true
}

/// Which numbering an attribute's type belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Space {
    /// Top-level attributes.
    Top,
    /// Elements of the `WEIGHTS` array.
    WeightsArray,
    /// Attributes of one `WEIGHTS` element.
    WeightEntry,
    /// Anything nested elsewhere.
    Other,
}

impl Space {
    fn child(self, kind: u16) -> Space {
        match (self, kind) {
            (Space::Top, top::WEIGHTS) => Space::WeightsArray,
            (Space::WeightsArray, _) => Space::WeightEntry,
            _ => Space::Other,
        }
    }

    fn max(self) -> u16 {
        match self {
            Space::Top => top::MAX,
            Space::WeightsArray => WEIGHTS_ELEMENT,
            Space::WeightEntry => weight_entry::MAX,
            Space::Other => 0,
        }
    }
}

/// An attribute anywhere in the tree: its index path and what a mutation needs to know.
#[derive(Clone, Debug)]
struct Site {
    path: Vec<usize>,
    space: Space,
    kind: u16,
    nested: bool,
    payload_len: usize,
}

fn sites(attrs: &[Attribute]) -> Vec<Site> {
    let mut out = Vec::new();
    collect_sites(attrs, Space::Top, &mut Vec::new(), &mut out);
    out
}

fn collect_sites(attrs: &[Attribute], space: Space, path: &mut Vec<usize>, out: &mut Vec<Site>) {
    for (index, attr) in attrs.iter().enumerate() {
        path.push(index);
        out.push(Site {
            path: path.clone(),
            space,
            kind: attr.kind(),
            nested: matches!(attr.body, Body::Nest(_)),
            payload_len: attr.true_len() - HEADER_LEN,
        });
        if let Body::Nest(children) = &attr.body {
            collect_sites(children, space.child(attr.kind()), path, out);
        }
        path.pop();
    }
}

fn pick<'a>(sites: &'a [Site], rng: &mut Prng, fits: impl Fn(&Site) -> bool) -> Option<&'a Site> {
    let fitting: Vec<&Site> = sites.iter().filter(|s| fits(s)).collect();
    (!fitting.is_empty()).then(|| *rng.pick(&fitting))
}

fn at_mut<'a>(attrs: &'a mut [Attribute], path: &[usize]) -> &'a mut Attribute {
    let (first, rest) = path.split_first().expect("paths are not empty");
    let attr = &mut attrs[*first];
    if rest.is_empty() {
        return attr;
    }
    match &mut attr.body {
        Body::Nest(children) => at_mut(children, rest),
        Body::Bytes(_) => unreachable!("a path only descends through nests"),
    }
}

/// The list of attributes inside the nest at `parent` (the top level when empty).
fn list_mut<'a>(attrs: &'a mut Vec<Attribute>, parent: &[usize]) -> &'a mut Vec<Attribute> {
    if parent.is_empty() {
        return attrs;
    }
    match &mut at_mut(attrs, parent).body {
        Body::Nest(children) => children,
        Body::Bytes(_) => unreachable!("a parent is a nest"),
    }
}

/// A type field other than `old`, keeping its nest flag: 0, one beyond the numbering, another
/// valid number, any number, or the byte-order flag toggled.
fn other_type(old: u16, space: Space, rng: &mut Prng) -> u16 {
    let nest_flag = old & NLA_F_NESTED;
    for _ in 0..8 {
        let candidate = match rng.below(5) {
            0 => 0,
            1 => space.max() + 1 + rng.below(64) as u16,
            2 => rng.between(1, u64::from(space.max().max(1))) as u16,
            3 => rng.next_u16(),
            _ => old ^ NLA_F_NET_BYTEORDER,
        };
        let new = (candidate & !NLA_F_NESTED) | nest_flag;
        if new != old {
            return new;
        }
    }
    old ^ 1
}

fn is_address(space: Space, kind: u16) -> bool {
    matches!(
        (space, kind),
        (Space::Top, top::VIP | top::SERVER | top::CLIENT)
            | (Space::WeightEntry, weight_entry::SERVER)
    )
}

/// Edge values for the attribute `kind` of `space`, as payloads; empty for attributes
/// without a meaningful value.
fn extremes(space: Space, kind: u16) -> Vec<Vec<u8>> {
    let u32s = |values: &[u32]| values.iter().map(|v| v.to_ne_bytes().to_vec()).collect();
    if is_address(space, kind) {
        return [[0, 0, 0, 0], [255; 4], [127, 0, 0, 1], [224, 0, 0, 1]]
            .iter()
            .map(|a| a.to_vec())
            .collect();
    }
    match (space, kind) {
        (Space::Top, top::PORT | top::CLIENT_PORT) => [0u16, 1, u16::MAX]
            .iter()
            .map(|v| v.to_ne_bytes().to_vec())
            .collect(),
        (Space::Top, top::WEIGHT) | (Space::WeightEntry, weight_entry::WEIGHT) => {
            u32s(&[0, MAX_WEIGHT, MAX_WEIGHT + 1, u32::MAX])
        }
        (
            Space::Top,
            top::TIMEOUT_SYN | top::TIMEOUT_ESTABLISHED | top::TIMEOUT_FIN | top::TIMEOUT_CLOSE,
        ) => u32s(&[0, MAX_TIMEOUT_SECS, MAX_TIMEOUT_SECS + 1, u32::MAX]),
        (Space::Top, top::CONN_LIMIT) => {
            u32s(&[0, 1, MAX_CONN_LIMIT, MAX_CONN_LIMIT + 1, u32::MAX])
        }
        (Space::Top, top::MAC) => vec![vec![0; 6], vec![0xff; 6], vec![1, 0, 0x5e, 0, 0, 1]],
        _ => Vec::new(),
    }
}

/// A well-formed `WEIGHTS` element.
fn weight_element(server: [u8; 4], weight: u32) -> Attribute {
    Attribute::nest(
        WEIGHTS_ELEMENT,
        vec![
            Attribute::bytes(weight_entry::SERVER, &server),
            Attribute::bytes(weight_entry::WEIGHT, &weight.to_ne_bytes()),
        ],
    )
}

/// Puts one kind of malformed element into the request's `WEIGHTS` array, adding the array
/// if the request has none.
fn garbage_in_weights(request: &mut GenlRequest, rng: &mut Prng) {
    let index = match request
        .attrs
        .iter()
        .position(|a| a.kind() == top::WEIGHTS && matches!(a.body, Body::Nest(_)))
    {
        Some(index) => index,
        None => {
            request
                .attrs
                .push(Attribute::nest(top::WEIGHTS, Vec::new()));
            request.attrs.len() - 1
        }
    };
    let Body::Nest(elements) = &mut request.attrs[index].body else {
        unreachable!("the array was found or made as a nest")
    };
    let garbage = match rng.below(9) {
        // An element that is not flagged as a nest.
        0 => {
            let len = rng.between(1, 16) as usize;
            Attribute::bytes(WEIGHTS_ELEMENT, &rng.bytes(len))
        }
        // Attribute numbers the element's policy does not know.
        1 => Attribute::nest(
            WEIGHTS_ELEMENT,
            vec![Attribute::bytes(
                weight_entry::MAX + 1 + rng.below(8) as u16,
                &1u32.to_ne_bytes(),
            )],
        ),
        2 => Attribute::nest(WEIGHTS_ELEMENT, Vec::new()),
        // Nests three deep where the element holds plain attributes.
        3 => Attribute::nest(
            WEIGHTS_ELEMENT,
            vec![Attribute::nest(
                weight_entry::SERVER,
                vec![weight_element([10, 0, 0, 11], 1)],
            )],
        ),
        4 => {
            let mut element = weight_element([10, 0, 0, 12], 2);
            element.length_lie = Some(rng.between(0, 40) as u16);
            if element.length_lie == Some(element.true_len() as u16) {
                element.length_lie = Some(0);
            }
            element
        }
        5 => Attribute::nest(
            WEIGHTS_ELEMENT,
            vec![
                Attribute::bytes(weight_entry::SERVER, &[10, 0]),
                Attribute::bytes(weight_entry::WEIGHT, &u64::MAX.to_ne_bytes()),
            ],
        ),
        // The same server twice.
        6 => match elements.first() {
            Some(first) => first.clone(),
            None => weight_element([10, 0, 0, 13], 3),
        },
        // Random attributes, some nested, as elements.
        7 => random_attribute(rng, 2),
        // More elements than a port may have servers, then the array is complete.
        _ => {
            let count = MAX_SERVERS_PER_PORT + 1 + rng.below(64) as usize;
            elements
                .extend((0..count).map(|i| weight_element([10, 1, (i >> 8) as u8, i as u8], 1)));
            return;
        }
    };
    let at = rng.index(elements.len() + 1);
    elements.insert(at, garbage);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz_netlink::generate::template;

    /// A request with every kind of attribute a mutation looks for: addresses, a port, a
    /// weight array, plain numbers.
    fn rich() -> GenlRequest {
        GenlRequest {
            netlink_flags: flags::REQUEST | flags::ACK,
            cmd: Cmd::SetWeights as u8,
            version: 1,
            reserved: 0,
            attrs: vec![
                Attribute::bytes(top::VIP, &[10, 0, 0, 100]),
                Attribute::bytes(top::PORT, &80u16.to_ne_bytes()),
                Attribute::bytes(top::WEIGHT, &5u32.to_ne_bytes()),
                Attribute::nest(
                    top::WEIGHTS,
                    vec![
                        weight_element([10, 0, 0, 11], 1),
                        weight_element([10, 0, 0, 12], 2),
                    ],
                ),
            ],
            trailer: Vec::new(),
        }
    }

    fn count_all(attrs: &[Attribute]) -> usize {
        attrs
            .iter()
            .map(|a| {
                1 + match &a.body {
                    Body::Nest(children) => count_all(children),
                    Body::Bytes(_) => 0,
                }
            })
            .sum()
    }

    fn by_path(attrs: &[Attribute], prefix: &[usize], out: &mut Vec<(Vec<usize>, Attribute)>) {
        for (index, attr) in attrs.iter().enumerate() {
            let path = [prefix, &[index]].concat();
            if let Body::Nest(children) = &attr.body {
                by_path(children, &path, out);
            }
            out.push((path, attr.clone()));
        }
    }

    /// The deepest attribute that is in both requests at the same place but differs: the
    /// one a value mutation changed (the nests around it change with it).
    fn changed_attribute(before: &GenlRequest, after: &GenlRequest) -> (Attribute, Attribute) {
        let (mut old, mut new) = (Vec::new(), Vec::new());
        by_path(&before.attrs, &[], &mut old);
        by_path(&after.attrs, &[], &mut new);
        old.into_iter()
            .filter_map(|(path, old)| {
                let (_, new) = new.iter().find(|(p, _)| *p == path)?;
                (*new != old).then(|| (path.len(), old, new.clone()))
            })
            .max_by_key(|(depth, _, _)| *depth)
            .map(|(_, old, new)| (old, new))
            .expect("an attribute changed")
    }

    fn type_fields(attrs: &[Attribute], out: &mut Vec<u16>) {
        for attr in attrs {
            out.push(attr.type_field);
            if let Body::Nest(children) = &attr.body {
                type_fields(children, out);
            }
        }
    }

    fn all_attrs(attrs: &[Attribute]) -> Vec<Attribute> {
        let mut out = Vec::new();
        for attr in attrs {
            out.push(attr.clone());
            if let Body::Nest(children) = &attr.body {
                out.extend(all_attrs(children));
            }
        }
        out
    }

    /// Applies `mutation` to `rich()` with several seeds and checks `claim(before, after)`.
    fn check(mutation: Mutation, claim: impl Fn(&GenlRequest, &GenlRequest) -> bool) {
        for seed in 0..200 {
            let before = rich();
            let mut after = before.clone();
            assert!(
                apply(mutation, &mut after, &mut Prng::new(seed)),
                "{mutation:?}"
            );
            assert!(
                claim(&before, &after),
                "{mutation:?} seed {seed}: {after:?}"
            );
        }
    }

    #[test]
    fn every_applied_mutation_changes_the_bytes_sent() {
        let mut rng = Prng::new(17);
        for round in 0..300 {
            let base = if round % 2 == 0 {
                rich()
            } else {
                template(Cmd::from_u8((round % 17) as u8).unwrap(), &mut rng)
            };
            for mutation in Mutation::ALL {
                let mut mutated = base.clone();
                if apply(mutation, &mut mutated, &mut rng) {
                    assert!(
                        (mutated.netlink_flags, mutated.payload())
                            != (base.netlink_flags, base.payload()),
                        "{mutation:?} left {base:?} as it was"
                    );
                } else {
                    assert_eq!(mutated, base, "{mutation:?} did not fit but changed");
                }
            }
        }
    }

    #[test]
    fn structural_mutations_do_what_they_say() {
        check(Mutation::DropAttribute, |b, a| {
            count_all(&a.attrs) < count_all(&b.attrs)
        });
        check(Mutation::RepeatAttribute, |b, a| {
            count_all(&a.attrs) > count_all(&b.attrs)
        });
        check(Mutation::RetypeAttribute, |b, a| {
            let (mut old, mut new) = (Vec::new(), Vec::new());
            type_fields(&b.attrs, &mut old);
            type_fields(&a.attrs, &mut new);
            old.len() == new.len() && old.iter().zip(&new).filter(|(o, n)| o != n).count() == 1
        });
        check(Mutation::TruncatePayload, |b, a| {
            let (old, new) = changed_attribute(b, a);
            new.true_len() < old.true_len()
        });
        check(Mutation::ExtendPayload, |b, a| {
            let (old, new) = changed_attribute(b, a);
            new.true_len() > old.true_len()
        });
        check(Mutation::NestInsidePlain, |b, a| {
            let nests = |r: &GenlRequest| {
                all_attrs(&r.attrs)
                    .iter()
                    .filter(|x| x.type_field & NLA_F_NESTED != 0)
                    .count()
            };
            nests(a) == nests(b) + 1
        });
        check(Mutation::LyingLength, |_, a| {
            all_attrs(&a.attrs).iter().any(|x| {
                x.length_lie
                    .is_some_and(|lie| usize::from(lie) != x.true_len())
            })
        });
        check(Mutation::UnknownAttribute, |_, a| {
            a.attrs.iter().any(|x| x.kind() > top::MAX)
        });
        check(Mutation::GarbageInWeights, |b, a| {
            let weights = |r: &GenlRequest| {
                r.attrs
                    .iter()
                    .find(|x| x.kind() == top::WEIGHTS)
                    .map(Attribute::payload)
            };
            weights(a) != weights(b)
        });
    }

    #[test]
    fn value_mutations_do_what_they_say() {
        check(Mutation::ExtremeValue, |b, a| {
            let value = changed_attribute(b, a).1.payload();
            let edges = [
                vec![0, 0, 0, 0],
                vec![255; 4],
                vec![127, 0, 0, 1],
                vec![224, 0, 0, 1],
                0u16.to_ne_bytes().to_vec(),
                1u16.to_ne_bytes().to_vec(),
                u16::MAX.to_ne_bytes().to_vec(),
                (MAX_WEIGHT + 1).to_ne_bytes().to_vec(),
                MAX_WEIGHT.to_ne_bytes().to_vec(),
                u32::MAX.to_ne_bytes().to_vec(),
            ];
            edges.contains(&value)
        });
        check(Mutation::WrongLengthAddress, |_, a| {
            let Body::Nest(elements) = &a.attrs[3].body else {
                return false;
            };
            let entry_servers = elements.iter().map(|element| match &element.body {
                Body::Nest(fields) => fields[0].payload().len(),
                Body::Bytes(_) => 4,
            });
            std::iter::once(a.attrs[0].payload().len())
                .chain(entry_servers)
                .any(|len| len != 4)
        });
        check(Mutation::FlipFlags, |b, a| {
            a.netlink_flags != b.netlink_flags && a.netlink_flags & flags::REQUEST != 0
        });
        check(Mutation::OtherCommand, |b, a| a.cmd != b.cmd);
        check(Mutation::TrailingBytes, |b, a| {
            a.trailer.len() > b.trailer.len() && a.payload().len() > b.payload().len()
        });
        check(Mutation::OddGenlHeader, |b, a| {
            (a.version, a.reserved) != (b.version, b.reserved)
        });
    }

    #[test]
    fn mutations_that_need_attributes_skip_an_empty_request() {
        let mut empty = template(Cmd::Flush, &mut Prng::new(1));
        let before = empty.clone();
        for mutation in [
            Mutation::DropAttribute,
            Mutation::RepeatAttribute,
            Mutation::ExtremeValue,
            Mutation::WrongLengthAddress,
            Mutation::LyingLength,
        ] {
            assert!(!apply(mutation, &mut empty, &mut Prng::new(2)));
            assert_eq!(empty, before);
        }
        assert!(apply(
            Mutation::GarbageInWeights,
            &mut empty,
            &mut Prng::new(2)
        ));
        assert_eq!(empty.attrs[0].kind(), top::WEIGHTS);
    }
}
