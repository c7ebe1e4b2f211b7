// Every kernel, instantiated for avx2; compiled with avx2's flags only (see CMakeLists.txt).
#define FASTTOPK_ISA_NAMESPACE isa_avx2
#include "fasttopk/kernel_table.hpp"

namespace fasttopk {
const KernelTable& kernel_table_avx2() {
    static const KernelTable table = isa_avx2::make_kernel_table<xsimd::fma3<xsimd::avx2>>("avx2");
    return table;
}
}
