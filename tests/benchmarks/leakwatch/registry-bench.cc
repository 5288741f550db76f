// leakwatch's Registry: cost per parent-tracking event (pad added to an element, element added
// to and removed from a bin) as the number of live records grows. Drives the core Registry
// in-process (no GStreamer objects: records are keyed by address and never dereferenced).
//
//   bench-leakwatch-registry [--events N] [--runs R]
//
// Two populations in the same run: 10 pipelines (100 live pads) and 1000 pipelines (10 000
// live pads), each pipeline a bin with 5 elements of 2 pads. Then N events on top of each,
// on the first 10 pipelines (the same working set in both, so the ratio shows what the live
// count alone costs: the target is <= 1.2), and again spread round-robin over every pipeline
// (adds the cache misses of touching 1000 cold bins; shown for information).
#include <leakwatch-registry.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>
#include "steady-stats.h"

namespace {

using leakwatch::Registry;
using leakwatch::TypeMode;
using leakwatch::TypeSlot;

constexpr int kElementsPerPipeline = 5;
constexpr int kPadsPerElement = 2;

struct Slots {
  TypeSlot pipeline, element, pad;
  Slots() {
    for (TypeSlot *s : {&pipeline, &element, &pad}) {
      s->mode = TypeMode::kDetailed;
      s->is_mini = false;
    }
    pipeline.name = "GstPipeline";
    element.name = "GstElement";
    pad.name = "GstPad";
  }
};

// Unique fake addresses: offsets into one arena that outlives the registry.
class Addresses {
 public:
  explicit Addresses(size_t n) : arena_(new char[n]), n_(n) {}
  const void *get() {
    if (next_ >= n_)
      std::abort();
    return arena_.get() + next_++;
  }

 private:
  std::unique_ptr<char[]> arena_;
  size_t n_;
  size_t next_ = 0;
};

struct Population {
  std::vector<const void *> bins;
  std::vector<const void *> elements;
};

Population populate(Registry &reg, Slots &slots, Addresses &addr, int pipelines) {
  Population pop;
  for (int p = 0; p < pipelines; ++p) {
    const void *bin = addr.get();
    reg.add(bin, &slots.pipeline, "pipeline", 0, std::string());
    reg.mark_pipeline(bin);
    pop.bins.push_back(bin);
    for (int e = 0; e < kElementsPerPipeline; ++e) {
      const void *el = addr.get();
      reg.add(el, &slots.element, "element", 0, std::string());
      for (int k = 0; k < kPadsPerElement; ++k) {
        const void *pad = addr.get();
        reg.add(pad, &slots.pad, "pad", 0, std::string());
        reg.set_parent(pad, el);
      }
      reg.set_parent(el, bin);
      pop.elements.push_back(el);
    }
  }
  return pop;
}

// `events` parent-tracking events, 4 per round: a new element gets two pads (2 events), joins
// a pipeline (1) and leaves it again (1); then its records go.
double ns_per_event(Registry &reg, Slots &slots, Addresses &addr, const Population &pop,
                    long events, size_t working_set) {
  const long rounds = events / 4;
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < rounds; ++i) {
    const void *bin = pop.bins[static_cast<size_t>(i) % working_set];
    const void *el = addr.get();
    const void *pads[2] = {addr.get(), addr.get()};
    reg.add(el, &slots.element, "transient", 0, std::string());
    for (const void *pad : pads) {
      reg.add(pad, &slots.pad, "pad", 0, std::string());
      reg.set_parent(pad, el);
    }
    reg.set_parent(el, bin);
    reg.detach(el);
    for (const void *pad : pads)
      reg.remove(pad);
    reg.remove(el);
  }
  auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(t1 - t0).count() /
         static_cast<double>(rounds * 4);
}

double run_once(int pipelines, long events, bool spread) {
  Slots slots;
  const size_t records =
      static_cast<size_t>(pipelines) * (1 + kElementsPerPipeline * (1 + kPadsPerElement));
  Addresses addr(records + static_cast<size_t>(events) + 16);
  Registry reg(Registry::Inspector{});
  Population pop = populate(reg, slots, addr, pipelines);
  return ns_per_event(reg, slots, addr, pop, events, spread ? pop.bins.size() : 10);
}

}  // namespace

int main(int argc, char **argv) {
  long events = 100000;
  int runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--events") == 0)
      events = std::atol(argv[i + 1]);
    else if (std::strcmp(argv[i], "--runs") == 0)
      runs = std::atoi(argv[i + 1]);
  }
  if (events < 4 || runs < 1) {
    std::fprintf(stderr, "usage: %s [--events N>=4] [--runs R>=1]\n", argv[0]);
    return 2;
  }
  std::printf("leakwatch Registry: %ld parent-tracking events per run, %d runs, interleaved\n",
              events, runs);
  for (bool spread : {false, true}) {
    std::vector<double> small, large;
    for (int r = 0; r < runs; ++r) {
      small.push_back(run_once(10, events, spread));
      large.push_back(run_once(1000, events, spread));
    }
    const double s = steady::median(small), l = steady::median(large);
    std::printf("events on %s:\n", spread ? "every pipeline, round-robin" : "10 pipelines");
    std::printf("  %6d live pads (%4d pipelines): %10.1f ns/event (median)\n",
                10 * kElementsPerPipeline * kPadsPerElement, 10, s);
    std::printf("  %6d live pads (%4d pipelines): %10.1f ns/event (median)\n",
                1000 * kElementsPerPipeline * kPadsPerElement, 1000, l);
    std::printf("  ratio 10000/100: %.3f%s\n", l / s, spread ? "" : " (target <= 1.2)");
  }
  return 0;
}
