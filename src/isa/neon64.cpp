// Every kernel, instantiated for neon64; compiled with neon64's flags only (see CMakeLists.txt).
#define FASTTOPK_ISA_NAMESPACE isa_neon64
#include "fasttopk/kernel_table.hpp"

namespace fasttopk {
const KernelTable& kernel_table_neon64() {
    static const KernelTable table = isa_neon64::make_kernel_table<xsimd::neon64>("neon64");
    return table;
}
}
