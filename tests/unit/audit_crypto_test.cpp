// The audit log's cryptography: a keyed HMAC (not a plain hash) for statement text, Ed25519 checkpoint
// signatures, and the checkpoint line format.
#include <catch2/catch.hpp>

#include <thread>

#include "audit/checkpoint.hpp"
#include "audit/crypto.hpp"
#include "audit_test_support.hpp"

using namespace phigate::audit;

TEST_CASE("the statement HMAC is HMAC-SHA256 (RFC 4231 test case 2)", "[audit][crypto]") {
  const hmac_key key("k1", "Jefe");
  CHECK(key.digest_hex("what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(key.id() == "k1");
}

TEST_CASE("a key longer than SHA-256's block is hashed first (RFC 4231 test case 6)", "[audit][crypto]") {
  const hmac_key key("k6", std::string(131, '\xaa'));
  CHECK(key.digest_hex("Test Using Larger Than Block-Size Key - Hash Key First") ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("the statement HMAC is keyed: not the plain hash, and different under another key",
          "[audit][crypto]") {
  const std::string ssn = "SELECT * FROM patients WHERE ssn = '123-45-6789'";
  const hmac_key a("a", "0123456789abcdef0123456789abcdef");
  const hmac_key b("b", "fedcba9876543210fedcba9876543210");
  CHECK(a.digest_hex(ssn) != sha256_hex(ssn));
  CHECK(a.digest_hex(ssn) != b.digest_hex(ssn));
  CHECK(a.digest_hex(ssn) == a.digest_hex(ssn));
}

TEST_CASE("each key gives its own digest, call after call, across keys and threads", "[audit][crypto]") {
  const std::string rfc = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  const std::string text = "what do ya want for nothing?";
  std::string other_digest;
  {
    const hmac_key other("o", "0123456789abcdef0123456789abcdef");
    other_digest = other.digest_hex(text);
  }
  // A key made after another was destroyed may get its address: it must not inherit its state.
  const hmac_key jefe("k1", "Jefe");
  const hmac_key other("o", "0123456789abcdef0123456789abcdef");
  for (int i = 0; i < 3; ++i) {
    CHECK(jefe.digest_hex(text) == rfc);
    CHECK(jefe.digest_hex("something else") != rfc);
    CHECK(other.digest_hex(text) == other_digest);
  }
  std::string from_thread;
  std::thread([&] { from_thread = jefe.digest_hex(text); }).join();
  CHECK(from_thread == rfc);
}

TEST_CASE("sha256_hex gives the same digest call after call", "[audit][crypto]") {
  for (int i = 0; i < 3; ++i) {
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }
}

TEST_CASE("sha256_hex and hex round trips", "[audit][crypto]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(from_hex(to_hex(std::string("\x00\xff\x10", 3))) == std::string("\x00\xff\x10", 3));
  CHECK_FALSE(from_hex("abc"));
  CHECK_FALSE(from_hex("zz"));
}

TEST_CASE("a checkpoint signature verifies with the public key and fails when anything changes",
          "[audit][crypto]") {
  const auto signer = audit_test::test_signer();
  checkpoint c{42, std::string(64, 'a'), "2026-12-04T18:40:00.000000Z", signer->key_id(), ""};
  c.signature = signer->sign_hex(c.signed_message());
  const auto key = audit_test::test_verifier();
  CHECK(key.key_id() == signer->key_id());
  CHECK(key.verify_hex(c.signed_message(), c.signature));
  auto changed = c;
  changed.tree_size = 41;
  CHECK_FALSE(key.verify_hex(changed.signed_message(), c.signature));
  const auto other = audit_test::test_verifier(audit_test::other_signing_pem);
  CHECK_FALSE(other.verify_hex(c.signed_message(), c.signature));
  std::string problem;
  const auto from_public = verify_key::from_pem(signer->public_pem(), problem);
  REQUIRE(from_public);
  CHECK(from_public->verify_hex(c.signed_message(), c.signature));
}

TEST_CASE("a key that is not Ed25519 is refused with a reason", "[audit][crypto]") {
  std::string problem;
  CHECK_FALSE(signing_key::from_pem("not a key", problem));
  CHECK(problem.find("genpkey") != std::string::npos);
}

TEST_CASE("checkpoint lines round-trip and junk is refused", "[audit][crypto]") {
  const checkpoint c{7, "ab", "t", "kid", "sig"};
  const auto line = c.to_json_line();
  CHECK(line == "{\"tree_size\":7,\"head\":\"ab\",\"time\":\"t\",\"key_id\":\"kid\",\"signature\":\"sig\"}");
  const auto back = checkpoint::from_json_line(line);
  REQUIRE(back);
  CHECK(back->tree_size == 7);
  CHECK(back->signature == "sig");
  CHECK_FALSE(checkpoint::from_json_line("{\"tree_size\":7}"));
  CHECK_FALSE(checkpoint::from_json_line("nonsense"));
}
