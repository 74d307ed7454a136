// The emulated CUDA device: the subset of the CUDA runtime API that topdown's CUDA backend
// and launchers use (CUDA Runtime API reference, "Memory Management", "Stream Management",
// "Error Handling", "Device Management"), implemented on the host for tests. Device memory
// is exact-size host memory, recorded with the file and line that allocated it and filled
// with a poison value (0xFF bytes: NaN as float, -1 as int); copies are checked for their
// direction and range; streams are validated; kernels run thread by thread (emu_launch.h).
// Everything runs synchronously, so asynchronous calls complete before they return.
#pragma once
#include <cstddef>
#include <cstdint>

// Qualifiers of CUDA C++: plain C++ here.
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
// CUDA's uint3: a plain aggregate, so that the thread-local coordinates below need no
// dynamic initialisation (and no TLS wrapper call on every access).
struct uint3 {
  unsigned x, y, z;
};
struct float2 {
  float x, y;
};

// The executing thread's coordinates (set by the launch, per host thread), reached
// through a function: UBSan's null check misreads direct accesses to extern thread_local
// objects in GCC 12.
namespace td_emu {
struct Coordinates {
  uint3 block, thread, block_dim, grid_dim;
};
Coordinates& coordinates();
}  // namespace td_emu
#define blockIdx (::td_emu::coordinates().block)
#define threadIdx (::td_emu::coordinates().thread)
#define blockDim (::td_emu::coordinates().block_dim)
#define gridDim (::td_emu::coordinates().grid_dim)

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorInvalidResourceHandle = 400,
};
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
};
enum cudaDeviceAttr { cudaDevAttrMultiProcessorCount = 16 };

struct td_emu_stream;
using cudaStream_t = td_emu_stream*;

namespace td_emu {
cudaError_t malloc_device(void** p, size_t bytes, const char* file, int line);
cudaError_t free_device(void* p, const char* file, int line);
cudaError_t memcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                   cudaStream_t stream, const char* file, int line);
cudaError_t memset(void* p, int value, size_t bytes, cudaStream_t stream, const char* file,
                   int line);
cudaError_t malloc_host(void** p, size_t bytes);
cudaError_t free_host(void* p);
}  // namespace td_emu

#define cudaMalloc(p, bytes) ::td_emu::malloc_device((void**)(p), (bytes), __FILE__, __LINE__)
#define cudaMallocAsync(p, bytes, stream) \
  ::td_emu::malloc_device((void**)(p), (bytes), __FILE__, __LINE__)
#define cudaFree(p) ::td_emu::free_device((p), __FILE__, __LINE__)
#define cudaFreeAsync(p, stream) ::td_emu::free_device((p), __FILE__, __LINE__)
#define cudaMemcpy(dst, src, bytes, kind) \
  ::td_emu::memcpy((dst), (src), (bytes), (kind), nullptr, __FILE__, __LINE__)
#define cudaMemcpyAsync(dst, src, bytes, kind, stream) \
  ::td_emu::memcpy((dst), (src), (bytes), (kind), (stream), __FILE__, __LINE__)
#define cudaMemsetAsync(p, value, bytes, stream) \
  ::td_emu::memset((p), (value), (bytes), (stream), __FILE__, __LINE__)
#define cudaMallocHost(p, bytes) ::td_emu::malloc_host((void**)(p), (bytes))
#define cudaFreeHost(p) ::td_emu::free_host((p))

cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorString(cudaError_t e);
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
// cudaDevAttrMultiProcessorCount: TD_EMU_SM_COUNT from the environment (default 132, an
// H100 SXM's), so tests can drive the launchers' chunking decisions.
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
