#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "emu_launch.h"

struct td_emu_stream {
  int id;
};

namespace td_emu {

Coordinates& coordinates() {
  thread_local Coordinates c;
  return c;
}

namespace {

struct Allocation {
  size_t bytes;
  const char* file;
  int line;
};

std::mutex g_mutex;
std::map<char*, Allocation> g_allocations;  // by base address
std::set<td_emu_stream*> g_streams;
std::map<std::string, long long> g_launches;
thread_local cudaError_t g_last = cudaSuccess;

cudaError_t fail(cudaError_t e, const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "emulated CUDA device: %s:%d: %s\n", file, line, what.c_str());
  g_last = e;
  return e;
}

// The allocation holding [p, p + bytes), or nullptr (callers hold g_mutex).
const Allocation* device_range(const void* p, size_t bytes, char** base = nullptr) {
  char* c = (char*)p;
  auto it = g_allocations.upper_bound(c);
  if (it == g_allocations.begin()) return nullptr;
  --it;
  if (c < it->first || c + bytes > it->first + it->second.bytes) return nullptr;
  if (base) *base = it->first;
  return &it->second;
}

bool is_device(const void* p) {
  char* c = (char*)p;
  auto it = g_allocations.upper_bound(c);
  if (it == g_allocations.begin()) return false;
  --it;
  return c >= it->first && c < it->first + std::max<size_t>(1, it->second.bytes);
}

bool valid_stream(cudaStream_t s) {
  return s == nullptr || g_streams.count(s) > 0;
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

uint64_t mix(uint64_t x) {  // splitmix64: a cheap, portable shuffle key
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A permutation of 0 .. n-1 (Fisher-Yates with a counter-based generator).
std::vector<uint32_t> shuffled(uint32_t n, uint64_t seed) {
  std::vector<uint32_t> order(n);
  for (uint32_t i = 0; i < n; ++i) order[i] = i;
  for (uint32_t i = n; i > 1; --i) std::swap(order[i - 1], order[mix(seed ^ i) % i]);
  return order;
}

void set_coordinates(dim3 grid, dim3 block, uint64_t b, uint32_t t) {
  Coordinates& c = coordinates();
  c.grid_dim = {grid.x, grid.y, grid.z};
  c.block_dim = {block.x, block.y, block.z};
  c.block = {(unsigned)(b % grid.x), (unsigned)(b / grid.x % grid.y),
             (unsigned)(b / grid.x / grid.y)};
  c.thread = {t % block.x, t / block.x % block.y, t / block.x / block.y};
}

}  // namespace

cudaError_t malloc_device(void** p, size_t bytes, const char* file, int line) {
  if (!p) return fail(cudaErrorInvalidValue, file, line, "cudaMalloc with a null pointer");
  // Exact size (a zero-byte request still gets a distinct address), poisoned.
  char* m = (char*)std::malloc(std::max<size_t>(1, bytes));
  if (!m) return fail(cudaErrorMemoryAllocation, file, line, "out of memory");
  std::memset(m, 0xFF, bytes);
  std::lock_guard<std::mutex> lock(g_mutex);
  g_allocations[m] = {bytes, file, line};
  *p = m;
  return cudaSuccess;
}

cudaError_t free_device(void* p, const char* file, int line) {
  if (!p) return cudaSuccess;
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_allocations.find((char*)p);
  if (it == g_allocations.end())
    return fail(cudaErrorInvalidDevicePointer, file, line,
                "cudaFree of a pointer that is not a device allocation");
  std::memset(p, 0xFF, it->second.bytes);
  std::free(p);
  g_allocations.erase(it);
  return cudaSuccess;
}

cudaError_t memcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                   cudaStream_t stream, const char* file, int line) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!valid_stream(stream))
    return fail(cudaErrorInvalidResourceHandle, file, line, "copy on an unknown stream");
  if (bytes == 0) return cudaSuccess;
  const bool to_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool from_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (to_device ? !device_range(dst, bytes) : is_device(dst))
    return fail(cudaErrorInvalidMemcpyDirection, file, line,
                to_device ? "copy destination is not inside one device allocation"
                          : "copy to the host writes device memory");
  if (from_device ? !device_range(src, bytes) : is_device(src))
    return fail(cudaErrorInvalidMemcpyDirection, file, line,
                from_device ? "copy source is not inside one device allocation"
                            : "copy from the host reads device memory");
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t memset(void* p, int value, size_t bytes, cudaStream_t stream, const char* file,
                   int line) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!valid_stream(stream))
    return fail(cudaErrorInvalidResourceHandle, file, line, "memset on an unknown stream");
  if (bytes && !device_range(p, bytes))
    return fail(cudaErrorInvalidValue, file, line, "memset outside a device allocation");
  std::memset(p, value, bytes);
  return cudaSuccess;
}

cudaError_t malloc_host(void** p, size_t bytes) {
  *p = std::malloc(std::max<size_t>(1, bytes));
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}

cudaError_t free_host(void* p) {
  std::free(p);
  return cudaSuccess;
}

void run_grid(const char* name, dim3 grid, dim3 block, cudaStream_t stream,
              const std::function<void()>& body) {
  static std::atomic<uint64_t> launches{0};
  const uint64_t launch_id = launches++;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    ++g_launches[name];
    if (!valid_stream(stream)) {
      fail(cudaErrorInvalidResourceHandle, "launch", 0, std::string(name) + ": unknown stream");
      return;
    }
  }
  // The limits a GPU enforces (CUDA C++ Programming Guide, "Features and Technical
  // Specifications", compute capability 8.x/9.x).
  const uint64_t threads = (uint64_t)block.x * block.y * block.z;
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || threads == 0 || grid.x > 2147483647u ||
      grid.y > 65535 || grid.z > 65535 || block.x > 1024 || block.y > 1024 || block.z > 64 ||
      threads > 1024) {
    g_last = cudaErrorInvalidConfiguration;
    std::fprintf(stderr,
                 "emulated CUDA device: %s: invalid configuration (grid %u x %u x %u, block "
                 "%u x %u x %u)\n",
                 name, grid.x, grid.y, grid.z, block.x, block.y, block.z);
    return;
  }
  const uint64_t blocks = (uint64_t)grid.x * grid.y * grid.z;
  const uint64_t seed = mix((uint64_t)env_int("TD_EMU_SEED", 1) * 0x100000001ull + launch_id);
  if (env_int("TD_EMU_RACE", 0)) {
    // Forward and reverse from the same memory; any difference is an order dependence.
    std::lock_guard<std::mutex> lock(g_mutex);
    std::vector<std::vector<char>> before, forward;
    for (const auto& [base, a] : g_allocations) before.emplace_back(base, base + a.bytes);
    for (uint64_t b = 0; b < blocks; ++b)
      for (uint32_t t = 0; t < threads; ++t) set_coordinates(grid, block, b, t), body();
    size_t i = 0;
    for (const auto& [base, a] : g_allocations) {
      forward.emplace_back(base, base + a.bytes);
      std::memcpy(base, before[i++].data(), a.bytes);
    }
    for (uint64_t b = blocks; b-- > 0;)
      for (uint32_t t = (uint32_t)threads; t-- > 0;) set_coordinates(grid, block, b, t), body();
    i = 0;
    for (const auto& [base, a] : g_allocations) {
      const std::vector<char>& f = forward[i++];
      if (std::memcmp(base, f.data(), a.bytes) == 0) continue;
      size_t at = 0;
      while (base[at] == f[at]) ++at;
      std::fprintf(stderr,
                   "emulated CUDA device: race in %s: the allocation of %s:%d (%zu bytes) "
                   "differs at byte %zu between forward and reverse thread order\n",
                   name, a.file, a.line, a.bytes, at);
      std::abort();
    }
    return;
  }
  const std::vector<uint32_t> order =
      blocks <= 0xFFFFFFFFull ? shuffled((uint32_t)blocks, seed) : std::vector<uint32_t>{};
#pragma omp parallel for schedule(dynamic, 16)
  for (long long i = 0; i < (long long)blocks; ++i) {
    const uint64_t b = order[(size_t)i];
    const std::vector<uint32_t> thread_order = shuffled((uint32_t)threads, seed ^ mix(b));
    for (uint32_t t : thread_order) {
      set_coordinates(grid, block, b, t);
      body();
    }
  }
}

std::map<std::string, long long> launch_counts() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_launches;
}

long long live_allocations() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return (long long)g_allocations.size();
}

}  // namespace td_emu

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  static int next = 1;
  std::lock_guard<std::mutex> lock(td_emu::g_mutex);
  *stream = new td_emu_stream{next++};
  td_emu::g_streams.insert(*stream);
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(td_emu::g_mutex);
  if (!td_emu::g_streams.erase(stream))
    return td_emu::fail(cudaErrorInvalidResourceHandle, "cudaStreamDestroy", 0, "unknown stream");
  delete stream;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(td_emu::g_mutex);
  return td_emu::valid_stream(stream) ? cudaSuccess
                                      : td_emu::fail(cudaErrorInvalidResourceHandle,
                                                     "cudaStreamSynchronize", 0, "unknown stream");
}

cudaError_t cudaDeviceSynchronize() {
  return cudaSuccess;
}

cudaError_t cudaGetLastError() {
  const cudaError_t e = td_emu::g_last;
  td_emu::g_last = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError() {
  return td_emu::g_last;
}

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInvalidConfiguration:
      return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer:
      return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection:
      return "invalid copy direction for memcpy";
    case cudaErrorInvalidResourceHandle:
      return "invalid resource handle";
  }
  return "unknown error";
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cudaSuccess : cudaErrorInvalidValue;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (device != 0 || attr != cudaDevAttrMultiProcessorCount) return cudaErrorInvalidValue;
  *value = td_emu::env_int("TD_EMU_SM_COUNT", 132);
  return cudaSuccess;
}
