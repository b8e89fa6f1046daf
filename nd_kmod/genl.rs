// SPDX-License-Identifier: GPL-2.0
//! A generic netlink family: registration from Rust tables of operations and attribute
//! policies, requests whose attributes the kernel validated, replies, and resumable dumps.

use crate::bindings;
use crate::netns::{self, NetRef, PernetState};
use kernel::sync::Arc;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr::NonNull;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::ThisModule;

/// How an attribute's payload must look.
#[derive(Clone, Copy)]
pub(crate) enum AttrKind {
    /// Two bytes.
    U16,
    /// Four bytes.
    U32,
    /// Exactly this many bytes.
    ExactLen(u16),
    /// Nested elements, each holding attributes that follow the given policy.
    NestedArray(&'static [(u16, AttrKind)], u16),
    /// A NUL-terminated string of at most this many bytes before the NUL.
    NulString(u16),
    /// At most this many bytes.
    MaxLen(u16),
    /// Nested attributes that follow the given policy.
    Nested(&'static [(u16, AttrKind)], u16),
}

/// Whether a command is a request with one reply or a dump.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpKind {
    /// `doit`.
    Do,
    /// `dumpit`.
    Dump,
}

/// One command of the family.
#[derive(Clone, Copy)]
pub(crate) struct Op {
    /// Command number.
    pub(crate) cmd: u8,
    /// How it is handled.
    pub(crate) kind: OpKind,
    /// Whether the caller needs CAP_NET_ADMIN in the namespace's user namespace.
    pub(crate) admin: bool,
}

/// The family's command handlers.
pub(crate) trait Handlers: 'static {
    /// Handles a request.
    fn doit(cmd: u8, request: &Request<'_>) -> Result;
    /// Adds the next part of a dump; called until it adds nothing.
    fn dumpit(cmd: u8, dump: &mut Dump<'_>) -> Result;
}

/// The buffer is full.
pub(crate) fn emsgsize() -> Error {
    Error::from_errno(-(bindings::EMSGSIZE as i32))
}

/// The command is not supported.
pub(crate) fn eopnotsupp() -> Error {
    Error::from_errno(-(bindings::EOPNOTSUPP as i32))
}

const MAX_OPS: usize = 32;
const MAX_POLICY: usize = 64;
const MAX_NESTED_POLICY: usize = 32;
const MAX_GROUPS: usize = 4;

// The tables handed to the kernel by address. The module has one family.
static mut FAMILY: MaybeUninit<bindings::genl_family> = MaybeUninit::zeroed();
static mut OPS: MaybeUninit<[bindings::genl_small_ops; MAX_OPS]> = MaybeUninit::zeroed();
static mut POLICY: MaybeUninit<[bindings::nla_policy; MAX_POLICY]> = MaybeUninit::zeroed();
static mut NESTED_POLICY: MaybeUninit<[bindings::nla_policy; MAX_NESTED_POLICY]> =
    MaybeUninit::zeroed();
static mut GROUPS: MaybeUninit<[bindings::genl_multicast_group; MAX_GROUPS]> =
    MaybeUninit::zeroed();

fn family_ptr() -> *mut bindings::genl_family {
    (&raw mut FAMILY).cast()
}

fn fill_policy(slot: &mut bindings::nla_policy, kind: AttrKind, nested: &mut usize) -> Result {
    match kind {
        AttrKind::U16 => slot.type_ = bindings::NLA_U16 as u8,
        AttrKind::U32 => slot.type_ = bindings::NLA_U32 as u8,
        AttrKind::ExactLen(len) => {
            slot.type_ = bindings::NLA_BINARY as u8;
            slot.validation_type = bindings::NLA_VALIDATE_RANGE as u8;
            slot.__bindgen_anon_1.__bindgen_anon_1.min = len as i16;
            slot.__bindgen_anon_1.__bindgen_anon_1.max = len as i16;
        }
        AttrKind::NulString(max) => {
            slot.type_ = bindings::NLA_NUL_STRING as u8;
            slot.len = max;
        }
        AttrKind::MaxLen(max) => {
            slot.type_ = bindings::NLA_BINARY as u8;
            slot.len = max;
        }
        AttrKind::NestedArray(inner, max) => {
            slot.type_ = bindings::NLA_NESTED_ARRAY as u8;
            slot.len = max;
            slot.__bindgen_anon_1.nested_policy = nested_table(inner, max, nested)?;
        }
        AttrKind::Nested(inner, max) => {
            slot.type_ = bindings::NLA_NESTED as u8;
            slot.len = max;
            slot.__bindgen_anon_1.nested_policy = nested_table(inner, max, nested)?;
        }
    }
    Ok(())
}

/// Fills the next `max + 1` slots of the nested policy table with `inner`; their start.
fn nested_table(
    inner: &'static [(u16, AttrKind)],
    max: u16,
    nested: &mut usize,
) -> Result<*const bindings::nla_policy> {
    let start = *nested;
    let end = start + usize::from(max) + 1;
    if end > MAX_NESTED_POLICY || inner.iter().any(|&(attr, _)| attr > max) {
        return Err(EINVAL);
    }
    // SAFETY: Called only from `register`, before the family exists.
    let table = unsafe { &mut *(&raw mut NESTED_POLICY).cast::<[bindings::nla_policy; MAX_NESTED_POLICY]>() };
    *nested = end;
    for &(attr, kind) in inner {
        if matches!(kind, AttrKind::NestedArray(..) | AttrKind::Nested(..)) {
            return Err(EINVAL);
        }
        fill_policy(&mut table[start + usize::from(attr)], kind, nested)?;
    }
    Ok(&raw const table[start])
}

/// The registered family; unregistering waits for running handlers.
pub(crate) struct Registration<H: Handlers> {
    _handlers: PhantomData<H>,
}

impl<H: Handlers> Registration<H> {
    /// Registers the family `name` (NUL-terminated).
    pub(crate) fn register(
        module: &'static ThisModule,
        name: &[u8],
        version: u8,
        max_attr: u16,
        policy: &[(u16, AttrKind)],
        ops: &[Op],
        groups: &[&[u8]],
    ) -> Result<Self> {
        if ops.len() > MAX_OPS || usize::from(max_attr) >= MAX_POLICY || groups.len() > MAX_GROUPS
        {
            return Err(EINVAL);
        }
        // SAFETY: As below: module init, before registration.
        let group_table =
            unsafe { &mut *(&raw mut GROUPS).cast::<[bindings::genl_multicast_group; MAX_GROUPS]>() };
        for (slot, name) in group_table.iter_mut().zip(groups) {
            if name.len() > slot.name.len() || name.last() != Some(&0) {
                return Err(EINVAL);
            }
            for (dst, &src) in slot.name.iter_mut().zip(name.iter()) {
                *dst = src as core::ffi::c_char;
            }
        }
        // SAFETY: Module init runs once, before the family is registered; nothing else uses
        // the tables yet.
        let (family, op_table, policy_table) = unsafe {
            (
                &mut *family_ptr(),
                &mut *(&raw mut OPS).cast::<[bindings::genl_small_ops; MAX_OPS]>(),
                &mut *(&raw mut POLICY).cast::<[bindings::nla_policy; MAX_POLICY]>(),
            )
        };
        let mut nested = 0;
        for &(attr, kind) in policy {
            if attr > max_attr {
                return Err(EINVAL);
            }
            fill_policy(&mut policy_table[usize::from(attr)], kind, &mut nested)?;
        }
        for (slot, op) in op_table.iter_mut().zip(ops) {
            slot.cmd = op.cmd;
            match op.kind {
                OpKind::Do => slot.doit = Some(Self::doit_callback),
                OpKind::Dump => slot.dumpit = Some(Self::dumpit_callback),
            }
            if op.admin {
                slot.flags = bindings::GENL_UNS_ADMIN_PERM as u8;
            }
        }
        if name.len() > family.name.len() || name.last() != Some(&0) {
            return Err(EINVAL);
        }
        for (dst, &src) in family.name.iter_mut().zip(name) {
            *dst = src as core::ffi::c_char;
        }
        family.version = version.into();
        family.maxattr = max_attr.into();
        family.policy = policy_table.as_ptr();
        family.small_ops = op_table.as_ptr();
        family.n_small_ops = ops.len() as u8;
        family.mcgrps = group_table.as_ptr();
        family.n_mcgrps = groups.len() as u8;
        family.module = module.as_ptr().cast();
        // Each namespace has its own Executor to administer.
        family.set_netnsok(1);
        // SAFETY: The family and its tables are filled and live in statics.
        kernel::error::to_result(unsafe { bindings::genl_register_family(family) })?;
        Ok(Registration {
            _handlers: PhantomData,
        })
    }

    unsafe extern "C" fn doit_callback(
        _skb: *mut bindings::sk_buff,
        info: *mut bindings::genl_info,
    ) -> core::ffi::c_int {
        // SAFETY: The generic netlink core calls `doit` with a valid request that outlives it.
        let Some(request) = (unsafe { Request::from_raw(info) }) else {
            return EINVAL.to_errno();
        };
        match H::doit(request.cmd(), &request) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    unsafe extern "C" fn dumpit_callback(
        skb: *mut bindings::sk_buff,
        cb: *mut bindings::netlink_callback,
    ) -> core::ffi::c_int {
        // SAFETY: The core calls `dumpit` with a valid message buffer and dump state.
        let (Some(skb), Some(cb)) = (NonNull::new(skb), NonNull::new(cb)) else {
            return EINVAL.to_errno();
        };
        let mut dump = Dump {
            skb,
            cb,
            _call: PhantomData,
        };
        // SAFETY: A dump request carries a generic netlink header after its netlink header.
        let cmd = unsafe {
            let nlh = (*cb.as_ptr()).nlh.cast::<u8>();
            *nlh.add(core::mem::size_of::<bindings::nlmsghdr>())
        };
        match H::dumpit(cmd, &mut dump) {
            // SAFETY: `skb` is the valid buffer of this call.
            Ok(()) => unsafe { bindings::nd_skb_len(skb.as_ptr()) as core::ffi::c_int },
            Err(e) => e.to_errno(),
        }
    }
}

impl<H: Handlers> Drop for Registration<H> {
    fn drop(&mut self) {
        // SAFETY: Registered in `register`.
        unsafe { bindings::genl_unregister_family(family_ptr()) };
    }
}

/// A request whose top-level attributes the kernel has validated against the policy.
///
/// # Invariants
///
/// `info` is a valid `genl_info` for the duration of the handler call, whose `attrs` has
/// `maxattr + 1` entries.
pub(crate) struct Request<'a> {
    info: NonNull<bindings::genl_info>,
    _call: PhantomData<&'a bindings::genl_info>,
}

impl<'a> Request<'a> {
    /// # Safety
    ///
    /// `info` must be valid for `'a`.
    unsafe fn from_raw(info: *mut bindings::genl_info) -> Option<Self> {
        NonNull::new(info).map(|info| Request {
            info,
            _call: PhantomData,
        })
    }

    fn cmd(&self) -> u8 {
        // SAFETY: By the type invariant `info` and its generic netlink header are valid.
        unsafe { (*(*self.info.as_ptr()).genlhdr).cmd }
    }

    /// The namespace the request was sent in.
    pub(crate) fn net(&self) -> Option<NetRef> {
        // SAFETY: The request's socket holds its namespace for the handler's duration.
        unsafe { NetRef::from_raw(bindings::nd_genl_info_net(self.info.as_ptr())) }
    }

    /// The requesting namespace's pernet state.
    pub(crate) fn state<T: PernetState>(&self) -> Option<Arc<T>> {
        // SAFETY: A handler runs while the family is registered, which the module does only
        // while the pernet state is registered, on a socket that holds its namespace.
        unsafe { netns::Registration::<T>::get(self.net()?) }
    }

    /// The payload of top-level attribute `kind`, if present.
    pub(crate) fn attr(&self, kind: u16) -> Option<crate::nla::Attr<'a>> {
        // SAFETY: By the type invariant `attrs` has an entry for every type up to `maxattr`;
        // the family's policy bounds `kind` at registration, and the caller passes its own
        // constants. A present entry points into the request message, valid for `'a`.
        unsafe {
            let family = &*family_ptr();
            if u32::from(kind) > family.maxattr {
                return None;
            }
            let nla = *(*self.info.as_ptr()).attrs.add(usize::from(kind));
            if nla.is_null() {
                return None;
            }
            let data = bindings::nd_nla_data(nla).cast::<u8>();
            let len = usize::try_from(bindings::nd_nla_len(nla)).ok()?;
            Some(crate::nla::Attr {
                kind,
                payload: core::slice::from_raw_parts(data, len),
            })
        }
    }

    /// Records `message` (and the offending attribute, if any) in the extended ack and
    /// returns `error`, for the handler to return.
    pub(crate) fn reject(&self, error: Error, message: &'static CStr, attr: Option<u16>) -> Error {
        // SAFETY: By the type invariant `info` is valid; `extack` is valid when non-null, and
        // takes a message that lives forever and a pointer into the request message.
        unsafe {
            let info = self.info.as_ptr();
            let extack = (*info).extack;
            if !extack.is_null() {
                (*extack)._msg = message.as_char_ptr().cast();
                if let Some(kind) = attr {
                    let family = &*family_ptr();
                    if u32::from(kind) <= family.maxattr {
                        (*extack).bad_attr = *(*info).attrs.add(usize::from(kind));
                    }
                }
            }
        }
        error
    }

    /// Sends one reply, built by `fill`.
    pub(crate) fn reply(&self, cmd: u8, fill: impl FnOnce(&mut Msg<'_>) -> Result) -> Result {
        // SAFETY: Allocating a message has no precondition in process context.
        let skb = unsafe { bindings::nd_genlmsg_new() };
        let skb = NonNull::new(skb).ok_or(ENOMEM)?;
        // SAFETY: `skb` is a fresh message; `info` is valid by the type invariant.
        let header = unsafe {
            bindings::nd_genlmsg_put_reply(skb.as_ptr(), self.info.as_ptr(), family_ptr(), 0, cmd)
        };
        let skb = finish(skb, header, fill)?;
        // SAFETY: `skb` is a finished message; sending consumes it; `info` is valid.
        kernel::error::to_result(unsafe {
            bindings::nd_genlmsg_reply(skb.as_ptr(), self.info.as_ptr())
        })
    }
}

/// Fills the fresh message `skb`, whose header `header` is, with `fill` and ends it; frees it
/// if the header could not be put or `fill` failed.
fn finish(
    skb: NonNull<bindings::sk_buff>,
    header: *mut core::ffi::c_void,
    fill: impl FnOnce(&mut Msg<'_>) -> Result,
) -> Result<NonNull<bindings::sk_buff>> {
    let mut msg = Msg {
        skb,
        _buffer: PhantomData,
    };
    if header.is_null() || fill(&mut msg).is_err() {
        // SAFETY: The message is ours and unsent.
        unsafe { bindings::nd_nlmsg_free(skb.as_ptr()) };
        return Err(emsgsize());
    }
    // SAFETY: `header` was put on this message, which is ours.
    unsafe { bindings::nd_genlmsg_end(skb.as_ptr(), header) };
    Ok(skb)
}

/// Whether anybody in `net` listens to the family's multicast group `group` (its index in
/// the groups given to `register`).
pub(crate) fn has_listeners(net: NetRef, group: u32) -> bool {
    // SAFETY: The family is registered while any namespace's state exists; `net` is alive.
    unsafe { bindings::nd_genl_has_listeners(family_ptr(), net.as_ptr(), group) }
}

/// Sends one message, built by `fill`, to the listeners of multicast group `group` in `net`.
/// Does not sleep: callable from softirq context.
pub(crate) fn multicast(
    net: NetRef,
    group: u32,
    cmd: u8,
    fill: impl FnOnce(&mut Msg<'_>) -> Result,
) -> Result {
    // SAFETY: Allocating an atomic message has no precondition.
    let skb = NonNull::new(unsafe { bindings::nd_genlmsg_new_atomic() }).ok_or(ENOMEM)?;
    // SAFETY: `skb` is a fresh message.
    let header = unsafe { bindings::nd_genlmsg_put_event(skb.as_ptr(), family_ptr(), cmd) };
    let skb = finish(skb, header, fill)?;
    // SAFETY: `skb` is a finished message; sending consumes it whatever the outcome; `net`
    // is alive.
    kernel::error::to_result(unsafe {
        bindings::nd_genlmsg_multicast_netns(family_ptr(), net.as_ptr(), skb.as_ptr(), group)
    })
}

/// One call of a dump: a buffer to fill with messages and the state kept between calls.
pub(crate) struct Dump<'a> {
    skb: NonNull<bindings::sk_buff>,
    cb: NonNull<bindings::netlink_callback>,
    _call: PhantomData<&'a mut bindings::netlink_callback>,
}

impl Dump<'_> {
    /// The namespace the dump was requested in.
    pub(crate) fn net(&self) -> Option<NetRef> {
        // SAFETY: The requesting socket holds its namespace while the dump runs.
        unsafe { NetRef::from_raw(bindings::nd_netlink_cb_net(self.cb.as_ptr())) }
    }

    /// The requesting namespace's pernet state.
    pub(crate) fn state<T: PernetState>(&self) -> Option<Arc<T>> {
        // SAFETY: As for `Request::state`.
        unsafe { netns::Registration::<T>::get(self.net()?) }
    }

    /// State kept from one call to the next, zero at the start of the dump.
    pub(crate) fn cursor(&mut self) -> &mut [core::ffi::c_long] {
        // SAFETY: `cb` is valid and ours for the call.
        unsafe { &mut (&mut *self.cb.as_ptr()).__bindgen_anon_1.args[..] }
    }

    /// Adds one message built by `fill`; `Ok(false)` if it did not fit, the buffer then being
    /// as it was (the dump continues in the next call).
    pub(crate) fn add(&mut self, cmd: u8, fill: impl FnOnce(&mut Msg<'_>) -> Result) -> Result<bool> {
        // SAFETY: `skb` and `cb` are valid for the call.
        let header = unsafe {
            bindings::nd_genlmsg_put_dump(self.skb.as_ptr(), self.cb.as_ptr(), family_ptr(), cmd)
        };
        if header.is_null() {
            return Ok(false);
        }
        let mut msg = Msg {
            skb: self.skb,
            _buffer: PhantomData,
        };
        let filled = fill(&mut msg);
        // SAFETY: `header` was returned by the put above on this buffer.
        unsafe {
            if filled.is_ok() {
                bindings::nd_genlmsg_end(self.skb.as_ptr(), header);
            } else {
                bindings::nd_genlmsg_cancel(self.skb.as_ptr(), header);
            }
        }
        match filled {
            Ok(()) => Ok(true),
            Err(e) if e.to_errno() == emsgsize().to_errno() => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// A message being built; every `put` fails with `emsgsize()` when the buffer is full.
pub(crate) struct Msg<'a> {
    skb: NonNull<bindings::sk_buff>,
    _buffer: PhantomData<&'a mut bindings::sk_buff>,
}

impl Msg<'_> {
    /// Adds an attribute with `payload`.
    pub(crate) fn put_bytes(&mut self, kind: u16, payload: &[u8]) -> Result {
        let len = core::ffi::c_int::try_from(payload.len()).map_err(|_| emsgsize())?;
        // SAFETY: `skb` is the valid message being built; `payload` is readable for `len`.
        let ret = unsafe {
            bindings::nla_put(self.skb.as_ptr(), kind.into(), len, payload.as_ptr().cast())
        };
        if ret < 0 {
            Err(emsgsize())
        } else {
            Ok(())
        }
    }

    /// Adds a `u8` attribute.
    pub(crate) fn put_u8(&mut self, kind: u16, value: u8) -> Result {
        self.put_bytes(kind, &[value])
    }

    /// Adds a `u16` attribute.
    pub(crate) fn put_u16(&mut self, kind: u16, value: u16) -> Result {
        self.put_bytes(kind, &value.to_ne_bytes())
    }

    /// Adds a `u32` attribute.
    pub(crate) fn put_u32(&mut self, kind: u16, value: u32) -> Result {
        self.put_bytes(kind, &value.to_ne_bytes())
    }

    /// Adds a `u64` attribute, aligned with a `pad` attribute where needed.
    pub(crate) fn put_u64(&mut self, kind: u16, value: u64, pad: u16) -> Result {
        let bytes = value.to_ne_bytes();
        // SAFETY: As in `put_bytes`.
        let ret = unsafe {
            bindings::nla_put_64bit(
                self.skb.as_ptr(),
                kind.into(),
                8,
                bytes.as_ptr().cast(),
                pad.into(),
            )
        };
        if ret < 0 {
            Err(emsgsize())
        } else {
            Ok(())
        }
    }

    /// Adds a nested attribute whose content `fill` adds.
    pub(crate) fn nest(&mut self, kind: u16, fill: impl FnOnce(&mut Self) -> Result) -> Result {
        // SAFETY: `skb` is the valid message being built.
        let start = unsafe { bindings::nd_nla_nest_start(self.skb.as_ptr(), kind.into()) };
        if start.is_null() {
            return Err(emsgsize());
        }
        let filled = fill(self);
        // SAFETY: `start` was returned by the nest start above on this message.
        unsafe {
            if filled.is_ok() {
                bindings::nd_nla_nest_end(self.skb.as_ptr(), start);
            } else {
                bindings::nd_nla_nest_cancel(self.skb.as_ptr(), start);
            }
        }
        filled
    }
}
