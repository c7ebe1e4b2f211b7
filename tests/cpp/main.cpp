// The C++ kernel tests' entry point: doctest's runner over every kernel table this CPU runs.
// FASTTOPK_ARCH=sse2,avx2 restricts the run to the named ISAs (the summary then counts one ISA's
// cases and assertions); unset, every usable ISA is tested in this one process, so that index
// results can be compared across ISAs.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "fasttopk/dispatch.hpp"
#include "harness.hpp"

namespace fasttopk_test {

const std::vector<const KernelTable*>& tested_tables() {
    static const std::vector<const KernelTable*> tables = [] {
        const auto usable = fasttopk::usable_kernel_tables();
        const char* env = std::getenv("FASTTOPK_ARCH");
        if (!env || !*env) return usable;
        std::vector<const KernelTable*> chosen;
        std::stringstream names(env);
        for (std::string name; std::getline(names, name, ',');) {
            bool found = false;
            for (const KernelTable* table : usable)
                if (name == table->name) {
                    chosen.push_back(table);
                    found = true;
                }
            if (!found) {
                std::fprintf(stderr, "FASTTOPK_ARCH: '%s' is not an ISA of this build and CPU\n", name.c_str());
                std::exit(2);
            }
        }
        return chosen;
    }();
    return tables;
}

}  // namespace fasttopk_test

int main(int argc, char** argv) {
    std::printf("fasttopk C++ kernel tests, ISAs:");
    for (const auto* table : fasttopk_test::tested_tables()) std::printf(" %s", table->name);
    std::printf("\n");
    std::fflush(stdout);
    doctest::Context context(argc, argv);
    return context.run();
}
