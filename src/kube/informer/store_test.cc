#include "kube/informer/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace sg::kube {
namespace {

using nlohmann::json;

ObjectPtr Obj(const std::string& ns, const std::string& name, const std::string& rv,
              const std::string& db = "") {
  json o = {{"metadata", {{"name", name}, {"resourceVersion", rv}}}};
  if (!ns.empty()) o["metadata"]["namespace"] = ns;
  if (!db.empty()) o["spec"]["database"] = db;
  return std::make_shared<const json>(std::move(o));
}

std::vector<std::string> Names(const std::vector<ObjectPtr>& objects) {
  std::vector<std::string> out;
  for (auto& o : objects) out.push_back(ObjectKey(*o));
  std::sort(out.begin(), out.end());
  return out;
}

IndexFunc ByDatabase() {
  return [](const json& o) -> std::vector<std::string> {
    if (!o.contains("spec") || !o["spec"].contains("database")) return {};
    return {o["spec"]["database"].get<std::string>()};
  };
}

TEST(ObjectKeyTest, NamespacedAndClusterScoped) {
  EXPECT_EQ(ObjectKey(*Obj("ns", "a", "1")), "ns/a");
  EXPECT_EQ(ObjectKey(*Obj("", "node-1", "1")), "node-1");
  EXPECT_EQ(ObjectKey(json::object()), "");
}

TEST(StoreTest, UpsertGetRemove) {
  Store s;
  EXPECT_EQ(s.Upsert(Obj("ns", "a", "1")), nullptr);
  auto old = s.Upsert(Obj("ns", "a", "2"));
  ASSERT_NE(old, nullptr);
  EXPECT_EQ((*old)["metadata"]["resourceVersion"], "1");
  EXPECT_EQ((*s.Get("ns", "a"))["metadata"]["resourceVersion"], "2");
  EXPECT_EQ(s.Size(), 1u);
  EXPECT_NE(s.Remove("ns/a"), nullptr);
  EXPECT_EQ(s.Remove("ns/a"), nullptr);
  EXPECT_EQ(s.Get("ns/a"), nullptr);
}

TEST(StoreTest, NamespaceAndCustomIndexesFollowChanges) {
  Store s;
  ASSERT_TRUE(s.AddIndex("database", ByDatabase()).ok());
  EXPECT_EQ(s.AddIndex("database", ByDatabase()).code(), Code::kAlreadyExists);
  s.Upsert(Obj("a", "m1", "1", "orders"));
  s.Upsert(Obj("a", "m2", "1", "users"));
  s.Upsert(Obj("b", "m3", "1", "orders"));
  EXPECT_EQ(Names(s.ByNamespace("a")), (std::vector<std::string>{"a/m1", "a/m2"}));
  EXPECT_EQ(Names(*s.ByIndex("database", "orders")), (std::vector<std::string>{"a/m1", "b/m3"}));
  // m1 moves to another database: the old index entry goes away.
  s.Upsert(Obj("a", "m1", "2", "users"));
  EXPECT_EQ(Names(*s.ByIndex("database", "orders")), (std::vector<std::string>{"b/m3"}));
  EXPECT_EQ(Names(*s.ByIndex("database", "users")), (std::vector<std::string>{"a/m1", "a/m2"}));
  s.Remove("b/m3");
  EXPECT_TRUE(s.ByIndex("database", "orders")->empty());
  EXPECT_EQ(s.ByIndex("nope", "x").status().code(), Code::kNotFound);
  EXPECT_EQ(s.AddIndex("late", ByDatabase()).code(), Code::kFailedPrecondition);
}

TEST(StoreTest, ReplaceReportsDiffAndReindexes) {
  Store s;
  ASSERT_TRUE(s.AddIndex("database", ByDatabase()).ok());
  s.Upsert(Obj("ns", "keep", "1", "orders"));
  s.Upsert(Obj("ns", "gone", "1", "orders"));
  auto diff = s.Replace({Obj("ns", "keep", "5", "users"), Obj("ns", "new", "6")});
  EXPECT_EQ(Names(diff.added), (std::vector<std::string>{"ns/new"}));
  EXPECT_EQ(Names(diff.removed), (std::vector<std::string>{"ns/gone"}));
  ASSERT_EQ(diff.updated.size(), 1u);
  EXPECT_EQ((*diff.updated[0].first)["metadata"]["resourceVersion"], "1");
  EXPECT_EQ((*diff.updated[0].second)["metadata"]["resourceVersion"], "5");
  EXPECT_EQ(s.Keys(), (std::vector<std::string>{"ns/keep", "ns/new"}));
  EXPECT_TRUE(s.ByIndex("database", "orders")->empty());
  EXPECT_EQ(Names(*s.ByIndex("database", "users")), (std::vector<std::string>{"ns/keep"}));
}

TEST(StoreTest, ReadersNeverSeeTornStateDuringWrites) {
  Store s;
  ASSERT_TRUE(s.AddIndex("database", ByDatabase()).ok());
  std::atomic<bool> stop{false};
  std::atomic<bool> bad{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!stop) {
        // Every object listed under "orders" really says "orders".
        auto orders = s.ByIndex("database", "orders");
        if (!orders.ok()) bad = true;
        for (const ObjectPtr& o : orders.value()) {
          if ((*o)["spec"]["database"] != "orders") bad = true;
        }
        for (auto& o : s.List()) {
          if (!o->contains("metadata")) bad = true;
        }
      }
    });
  }
  for (int i = 0; i < 3000; ++i) {
    s.Upsert(
        Obj("ns", "m" + std::to_string(i % 20), std::to_string(i), i % 2 ? "orders" : "users"));
    if (i % 7 == 0) s.Remove("ns/m" + std::to_string(i % 20));
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_FALSE(bad.load());
}

}  // namespace
}  // namespace sg::kube
