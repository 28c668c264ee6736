#include "controller/api/job_policy.h"

#include <gtest/gtest.h>

namespace sg::controller {
namespace {

using nlohmann::json;

SchemaMigrationSpec Spec(const std::string& job_json, const std::string& source_json = "") {
  std::string text = R"({"database":{"secretRef":{"name":"db"}},"source":)" +
                     (source_json.empty() ? std::string(R"({"configMaps":["m"]})") : source_json) +
                     (job_json.empty() ? "" : R"(,"job":)" + job_json) + "}";
  auto spec = ParseSpec(json::parse(text));
  EXPECT_TRUE(spec.ok()) << spec.status();
  return *spec;
}

// Creating a SchemaMigration is creating a pod: the operator enforces what
// the cluster admin allows (chart values), naming the field.
TEST(JobPolicyTest, ImagesOnlyFromAllowedPrefixesAndNoServiceAccountUnlessAllowed) {
  JobPolicy open;  // defaults: any image, no service account
  EXPECT_TRUE(CheckJobPolicy(Spec(""), open).ok());
  EXPECT_TRUE(CheckJobPolicy(Spec(R"({"image":"evil.example/x:1"})"), open).ok());
  Status sa = CheckJobPolicy(Spec(R"({"serviceAccountName":"admin"})"), open);
  EXPECT_EQ(sa.code(), Code::kFailedPrecondition);
  EXPECT_NE(sa.message().find("spec.job.serviceAccountName"), std::string::npos) << sa;

  JobPolicy strict;
  strict.allowed_image_prefixes = {"registry.corp/schemagate:", "registry.corp/migrations/"};
  strict.allow_service_account_name = true;
  EXPECT_TRUE(CheckJobPolicy(Spec(""), strict).ok());  // the operator's own image
  EXPECT_TRUE(CheckJobPolicy(Spec(R"({"image":"registry.corp/schemagate:1.2"})"), strict).ok());
  EXPECT_TRUE(CheckJobPolicy(Spec(R"({"serviceAccountName":"migrator"})"), strict).ok());
  Status image = CheckJobPolicy(Spec(R"({"image":"registry.corp/schemagate-evil:1"})"), strict);
  EXPECT_EQ(image.code(), Code::kFailedPrecondition);
  EXPECT_NE(image.message().find("spec.job.image"), std::string::npos) << image;
  EXPECT_NE(image.message().find("registry.corp/schemagate-evil:1"), std::string::npos) << image;
  Status source =
      CheckJobPolicy(Spec("", R"({"image":{"ref":"docker.io/someone/migrations:1"}})"), strict);
  EXPECT_EQ(source.code(), Code::kFailedPrecondition);
  EXPECT_NE(source.message().find("spec.source.image.ref"), std::string::npos) << source;
  EXPECT_TRUE(
      CheckJobPolicy(Spec("", R"({"image":{"ref":"registry.corp/migrations/shop:7"}})"), strict)
          .ok());
}

}  // namespace
}  // namespace sg::controller
