// Threaded stress test of leakwatch's core for the ThreadSanitizer run (suite 'tsan') and the
// normal suite: the lock-free type table and the Registry driven from several threads at once,
// as GStreamer's hooks drive them (objects and mini objects created and destroyed, elements
// added to and removed from bins, pads added), while a reader takes reports. No GStreamer
// object is involved: records are keyed by address and never dereferenced.
#include <gst/check/gstcheck.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "leakwatch-counters.h"
#include "leakwatch-registry.h"

using leakwatch::AliveObject;
using leakwatch::Registry;
using leakwatch::TypeMode;
using leakwatch::TypeSlot;
using leakwatch::TypeTable;

namespace {

constexpr int kThreads = 4;
constexpr int kRounds = 3000;
constexpr int kTypes = 48;  // first sightings race in the type table

// Types registered once by the main thread; the table sees them first from the workers.
std::vector<GType> test_types() {
  static std::vector<GType> types;
  if (types.empty()) {
    for (int i = 0; i < kTypes; ++i) {
      std::string name = "LeakwatchStressType" + std::to_string(i);
      types.push_back(g_type_register_static_simple(G_TYPE_OBJECT, name.c_str(),
                                                    sizeof(GObjectClass), nullptr, sizeof(GObject),
                                                    nullptr, GTypeFlags(0)));
    }
  }
  return types;
}

// A third of the types per mode, decided by the classifier under the table's mutex.
TypeMode mode_of(GType type) {
  return static_cast<TypeMode>(type % 3);
}

}  // namespace

GST_START_TEST(test_type_table_and_registry_threads) {
  const std::vector<GType> types = test_types();
  std::atomic<int> classified{0};
  TypeTable table([&classified](GType t, bool) {
    classified.fetch_add(1, std::memory_order_relaxed);
    return mode_of(t);
  });
  Registry::Inspector inspector;
  inspector.refcount = [](const void *, bool) { return 1; };
  inspector.may_be_leaked = [](const void *, bool) { return false; };
  Registry reg(inspector);

  TypeSlot pipeline_slot, element_slot, pad_slot;
  for (TypeSlot *s : {&pipeline_slot, &element_slot, &pad_slot})
    s->mode = TypeMode::kDetailed;
  pipeline_slot.name = "GstPipeline";
  element_slot.name = "GstElement";
  pad_slot.name = "GstPad";

  // One pipeline shared by every thread; each thread also has one of its own.
  constexpr size_t kPerThread = 16 * kRounds;
  std::unique_ptr<char[]> arena(new char[1 + kThreads * kPerThread]);
  const void *shared = arena.get();
  reg.add(shared, &pipeline_slot, "shared", 0, std::string());
  const uint64_t shared_id = reg.mark_pipeline(shared);
  fail_unless(shared_id != 0);

  std::atomic<bool> done{false};
  std::atomic<int> reports{0};
  std::thread reader([&] {
    while (!done.load(std::memory_order_acquire)) {
      std::vector<AliveObject> all = reg.alive(0, false);
      for (size_t i = 1; i < all.size(); ++i)
        fail_unless(all[i - 1].serial < all[i].serial);
      reg.alive_of_pipeline(shared_id);
      reg.size();
      reg.name_of(shared);
      table.slots();
      reports.fetch_add(1, std::memory_order_relaxed);
    }
  });

  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      const char *base = arena.get() + 1 + t * kPerThread;
      size_t next = 0;
      auto addr = [&] { return static_cast<const void *>(base + next++); };
      const void *own = addr();
      reg.add(own, &pipeline_slot, "own", 0, std::string());
      reg.mark_pipeline(own);
      for (int i = 0; i < kRounds; ++i) {
        // Counted, pointer and detailed mini objects, as the hooks see them.
        GType type = types[(t * 7 + i) % kTypes];
        TypeSlot *slot = table.get(type, true);
        slot->created.fetch_add(1, std::memory_order_relaxed);
        const void *mini = addr();
        if (slot->mode != TypeMode::kCountOnly)
          reg.add(mini, slot, slot->mode == TypeMode::kDetailed ? "mini" : nullptr, i,
                  std::string());
        // An element with two pads, moved between the shared pipeline and this thread's.
        const void *el = addr();
        const void *pads[2] = {addr(), addr()};
        for (const void *pad : pads)
          reg.add(pad, &pad_slot, "pad", i, std::string());
        for (const void *pad : pads)
          reg.set_parent(pad, el);  // before the element has a record, as in instance init
        reg.add(el, &element_slot, "el", i, std::string());
        reg.set_parent(el, shared);
        reg.rename(el, "renamed");
        reg.detach(el);
        reg.set_parent(el, own);
        if (i % 2 == 0)
          reg.remove(el);  // the element goes first, its pads later
        for (const void *pad : pads)
          reg.remove(pad);
        if (i % 2 != 0)
          reg.remove(el);
        if (slot->mode == TypeMode::kCountOnly || reg.remove(mini) == slot)
          slot->destroyed.fetch_add(1, std::memory_order_relaxed);
      }
      reg.remove(own);
    });
  }
  for (std::thread &w : workers)
    w.join();
  done.store(true, std::memory_order_release);
  reader.join();

  // Each type was classified once however many threads saw it first, and every creation
  // was matched by a destruction.
  fail_unless_equals_int(classified.load(), kTypes);
  uint64_t created = 0;
  for (TypeSlot *s : table.slots()) {
    fail_unless_equals_int(s->live(), 0);
    created += s->created.load();
  }
  fail_unless_equals_int(created, static_cast<uint64_t>(kThreads) * kRounds);
  // Only the shared pipeline is left, and nothing else claims to belong to it.
  fail_unless_equals_int(reg.size(), 1);
  std::vector<AliveObject> left = reg.alive_of_pipeline(shared_id);
  fail_unless_equals_int(left.size(), 1);
  fail_unless_equals_string(left[0].name.c_str(), "shared");
  fail_unless(reports.load() > 0);
  reg.remove(shared);
  fail_unless_equals_int(reg.size(), 0);
}
GST_END_TEST;

static Suite *leakwatch_stress_suite() {
  Suite *s = suite_create("leakwatch-stress");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 600);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_type_table_and_registry_threads);
  return s;
}

GST_CHECK_MAIN(leakwatch_stress);
