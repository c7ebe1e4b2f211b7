// Every kernel, instantiated for sse2; compiled with sse2's flags only (see CMakeLists.txt).
#define FASTTOPK_ISA_NAMESPACE isa_sse2
#include "fasttopk/kernel_table.hpp"

namespace fasttopk {
const KernelTable& kernel_table_sse2() {
    static const KernelTable table = isa_sse2::make_kernel_table<xsimd::sse2>("sse2");
    return table;
}
}
