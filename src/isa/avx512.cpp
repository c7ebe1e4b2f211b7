// Every kernel, instantiated for avx512; compiled with avx512's flags only (see CMakeLists.txt).
#define FASTTOPK_ISA_NAMESPACE isa_avx512
#include "fasttopk/kernel_table.hpp"

namespace fasttopk {
const KernelTable& kernel_table_avx512() {
    static const KernelTable table = isa_avx512::make_kernel_table<xsimd::avx512bw>("avx512");
    return table;
}
}
