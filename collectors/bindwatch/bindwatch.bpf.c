// The kernel half of the bind watch: tracepoints on bind(2) and listen(2) and on TCP
// sockets entering LISTEN. Each failed call (EADDRINUSE, EACCES) and each new listener is
// one 56-byte record in a ring buffer; bind_event.cpp decodes it (the layout is documented
// there). Compiled at build time with clang -target bpf against the running kernel's BTF
// (CO-RE: libbpf relocates the struct offsets for the kernel it is loaded into).
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define PW_AF_INET 2
#define PW_AF_INET6 10
#define PW_EACCES 13
#define PW_EADDRINUSE 98
#define PW_TCP_LISTEN 10

enum { kBindFailed = 1, kListenFailed = 2, kListening = 3 };

struct record {
  __u32 kind;
  __u32 pid;
  __s32 error;
  __u16 family;
  __u16 port;
  __u8 addr[16];
  __u8 protocol;
  __u8 pad[7];
  char comm[16];
};
_Static_assert(sizeof(struct record) == 56, "bind_event.cpp decodes 56 bytes");

struct call {
  __u64 fd;
  __u64 uaddr;
};

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20);
} records SEC(".maps");

// bind/listen arguments from syscall entry to exit, by thread. LRU: a thread that never
// returns (killed in between) cannot fill the map.
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 8192);
  __type(key, __u32);
  __type(value, struct call);
} calls SEC(".maps");

// Records that did not fit into the ring buffer (user space fell behind).
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} dropped SEC(".maps");

static struct record *reserve(__u32 kind) {
  struct record *r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
  if (!r) {
    __u32 zero = 0;
    __u64 *n = bpf_map_lookup_elem(&dropped, &zero);
    if (n) __sync_fetch_and_add(n, 1);
    return 0;
  }
  __builtin_memset(r, 0, sizeof(*r));
  r->kind = kind;
  r->pid = bpf_get_current_pid_tgid() >> 32;
  bpf_get_current_comm(r->comm, sizeof(r->comm));
  return r;
}

// The socket behind the calling task's descriptor fd.
static struct sock *sock_of_fd(__u64 fd) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
  struct file *file = 0;
  bpf_probe_read_kernel(&file, sizeof(file), fds + fd);
  if (!file) return 0;
  struct socket *socket = BPF_CORE_READ(file, private_data);
  return socket ? BPF_CORE_READ(socket, sk) : 0;
}

static int save_call(__u64 fd, __u64 uaddr) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct call c = {fd, uaddr};
  bpf_map_update_elem(&calls, &tid, &c, BPF_ANY);
  return 0;
}

// The failed call's arguments, or 0 if it did not fail with an errno we report.
static int take_call(long ret, struct call *out) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct call *c = bpf_map_lookup_elem(&calls, &tid);
  if (!c) return 0;
  *out = *c;
  bpf_map_delete_elem(&calls, &tid);
  return ret == -PW_EADDRINUSE || ret == -PW_EACCES;
}

SEC("tracepoint/syscalls/sys_enter_bind")
int enter_bind(struct trace_event_raw_sys_enter *ctx) {
  return save_call(ctx->args[0], ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_bind")
int exit_bind(struct trace_event_raw_sys_exit *ctx) {
  struct call c;
  if (!take_call(ctx->ret, &c)) return 0;
  __u16 family = 0;
  bpf_probe_read_user(&family, sizeof(family), (void *)c.uaddr);
  if (family != PW_AF_INET && family != PW_AF_INET6) return 0;
  struct record *r = reserve(kBindFailed);
  if (!r) return 0;
  r->error = -ctx->ret;
  r->family = family;
  if (family == PW_AF_INET) {
    struct sockaddr_in in = {};
    bpf_probe_read_user(&in, sizeof(in), (void *)c.uaddr);
    r->port = __builtin_bswap16(in.sin_port);
    __builtin_memcpy(r->addr, &in.sin_addr, 4);
  } else {
    struct sockaddr_in6 in6 = {};
    bpf_probe_read_user(&in6, sizeof(in6), (void *)c.uaddr);
    r->port = __builtin_bswap16(in6.sin6_port);
    __builtin_memcpy(r->addr, &in6.sin6_addr, 16);
  }
  struct sock *sk = sock_of_fd(c.fd);
  if (sk) r->protocol = BPF_CORE_READ(sk, sk_protocol);
  bpf_ringbuf_submit(r, 0);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_listen")
int enter_listen(struct trace_event_raw_sys_enter *ctx) { return save_call(ctx->args[0], 0); }

// listen() fails with EADDRINUSE when the port, bound with SO_REUSEADDR, gained a listener
// meanwhile: the address is the one the socket is bound to.
SEC("tracepoint/syscalls/sys_exit_listen")
int exit_listen(struct trace_event_raw_sys_exit *ctx) {
  struct call c;
  if (!take_call(ctx->ret, &c)) return 0;
  struct sock *sk = sock_of_fd(c.fd);
  if (!sk) return 0;
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  if (family != PW_AF_INET && family != PW_AF_INET6) return 0;
  struct record *r = reserve(kListenFailed);
  if (!r) return 0;
  r->error = -ctx->ret;
  r->family = family;
  r->port = BPF_CORE_READ(sk, __sk_common.skc_num);
  r->protocol = BPF_CORE_READ(sk, sk_protocol);
  if (family == PW_AF_INET) {
    __be32 a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
    __builtin_memcpy(r->addr, &a, 4);
  } else {
    BPF_CORE_READ_INTO(&r->addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
  }
  bpf_ringbuf_submit(r, 0);
  return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int set_state(struct trace_event_raw_inet_sock_set_state *ctx) {
  if (ctx->newstate != PW_TCP_LISTEN) return 0;
  struct record *r = reserve(kListening);
  if (!r) return 0;
  r->family = ctx->family;
  r->port = ctx->sport;
  r->protocol = ctx->protocol;
  // Through a helper: the verifier refuses loads from an offset context pointer.
  if (ctx->family == PW_AF_INET) {
    bpf_probe_read_kernel(r->addr, 4, ctx->saddr);
  } else {
    bpf_probe_read_kernel(r->addr, 16, ctx->saddr_v6);
  }
  bpf_ringbuf_submit(r, 0);
  return 0;
}
