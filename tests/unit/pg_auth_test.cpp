// SCRAM-SHA-256, MD5 and base64 as PostgreSQL speaks them: RFC 7677's test vector, a verifier made by a real
// PostgreSQL 15 server, and malformed peer messages.
#include <catch2/catch.hpp>

#include "protocol/postgres/auth.hpp"

namespace scram = phigate::pg::scram;
using phigate::pg::base64_decode;
using phigate::pg::base64_encode;
using scram::status;

namespace {

// RFC 7677 section 3 (user "user", password "pencil").
constexpr std::string_view rfc_client_nonce = "rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view rfc_server_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view rfc_salt_b64 = "W22ZaJ0SNY7soEsUEjb6gQ==";
constexpr std::string_view rfc_client_first = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view rfc_server_first =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view rfc_client_final =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+"
    "Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view rfc_server_final = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
constexpr std::string_view rfc_combined_nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";

// The same exchange with the empty user name libpq sends ("n=,"). Expected values computed independently with
// Python's hashlib.pbkdf2_hmac / hmac from the RFC inputs.
constexpr std::string_view libpq_client_first = "n,,n=,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view libpq_client_final =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=qvT2SWdEH5Q06albL+"
    "hjSYuUhCG7VndFyzIb7CK4n9k=";
constexpr std::string_view libpq_server_final = "v=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg=";

// Made by PostgreSQL 15 itself: SET password_encryption = 'scram-sha-256'; CREATE ROLE x PASSWORD 'secret';
// SELECT rolpassword FROM pg_authid WHERE rolname = 'x';
constexpr std::string_view postgres_verifier =
    "SCRAM-SHA-256$4096:AT3050BtChxTdmxaMg/WMA==$WUDWacUkipO1UIb0RPg8Ot1CJi58aPmMx7SXdqk4dfw=:"
    "rt0fJFdDpc0GEqP/q2T8X2AUb54JI27gzlsiF29HEiA=";

scram::verifier rfc_verifier() {
  return scram::make_verifier("pencil", *base64_decode(rfc_salt_b64), 4096);
}

/// Runs a whole exchange between phigate's two roles; returns the server's verdict and whether the client
/// accepted the server's signature.
std::pair<status, status> run_exchange(const scram::verifier& v, const std::string& password) {
  scram::server_exchange server(v);
  scram::client_exchange client(password);
  const auto server_first = server.on_client_first(client.client_first());
  REQUIRE(server_first.result == status::ok);
  const auto client_final = client.on_server_first(server_first.message);
  REQUIRE(client_final.result == status::ok);
  const auto server_final = server.on_client_final(client_final.message);
  if (server_final.result != status::ok) return {server_final.result, status::bad_server};
  return {server_final.result, client.on_server_final(server_final.message).result};
}

/// A server that has answered the RFC client-first, ready for a client-final.
scram::server_exchange rfc_server_after_first() {
  scram::server_exchange server(rfc_verifier(), std::string(rfc_server_nonce));
  REQUIRE(server.on_client_first(rfc_client_first).result == status::ok);
  return server;
}

}  // namespace

TEST_CASE("the SCRAM server reproduces the RFC 7677 test vector message for message", "[pg_auth]") {
  scram::server_exchange server(rfc_verifier(), std::string(rfc_server_nonce));
  const auto first = server.on_client_first(rfc_client_first);
  REQUIRE(first.result == status::ok);
  CHECK(first.message == rfc_server_first);
  const auto final_step = server.on_client_final(rfc_client_final);
  REQUIRE(final_step.result == status::ok);
  CHECK(final_step.message == rfc_server_final);
}

TEST_CASE("the SCRAM client speaks like libpq: empty user name, RFC 7677 inputs", "[pg_auth]") {
  scram::client_exchange client("pencil", std::string(rfc_client_nonce));
  CHECK(client.client_first() == libpq_client_first);
  const auto final_step = client.on_server_first(rfc_server_first);
  REQUIRE(final_step.result == status::ok);
  CHECK(final_step.message == libpq_client_final);
  const auto done = client.on_server_final(libpq_server_final);
  CHECK(done.result == status::ok);
  CHECK(done.message.empty());
}

TEST_CASE("the SCRAM server accepts libpq's empty user name with the RFC 7677 inputs", "[pg_auth]") {
  scram::server_exchange server(rfc_verifier(), std::string(rfc_server_nonce));
  REQUIRE(server.on_client_first(libpq_client_first).message == rfc_server_first);
  const auto final_step = server.on_client_final(libpq_client_final);
  REQUIRE(final_step.result == status::ok);
  CHECK(final_step.message == libpq_server_final);
}

TEST_CASE("a verifier made by PostgreSQL parses and prints back byte for byte", "[pg_auth]") {
  const auto v = scram::verifier::parse(postgres_verifier);
  REQUIRE(v);
  CHECK(v->iterations == 4096);
  CHECK(v->salt.size() == 16);
  CHECK(v->to_string() == postgres_verifier);
}

TEST_CASE("make_verifier with PostgreSQL's salt derives PostgreSQL's verifier", "[pg_auth]") {
  const auto v = scram::verifier::parse(postgres_verifier);
  REQUIRE(v);
  CHECK(scram::make_verifier("secret", v->salt, 4096).to_string() == postgres_verifier);
}

TEST_CASE("a PostgreSQL verifier admits the right password and refuses a wrong one", "[pg_auth]") {
  const auto v = scram::verifier::parse(postgres_verifier);
  REQUIRE(v);
  CHECK(run_exchange(*v, "secret") == std::pair{status::ok, status::ok});
  CHECK(run_exchange(*v, "Secret").first == status::wrong_password);
  CHECK(run_exchange(*v, "").first == status::wrong_password);
}

TEST_CASE("a random-salt verifier round-trips through text and an exchange", "[pg_auth]") {
  const auto made = scram::make_verifier("correct horse");
  CHECK(made.salt.size() == 16);
  const auto parsed = scram::verifier::parse(made.to_string());
  REQUIRE(parsed);
  CHECK(parsed->to_string() == made.to_string());
  CHECK(run_exchange(*parsed, "correct horse") == std::pair{status::ok, status::ok});
  CHECK(scram::make_verifier("correct horse").salt != made.salt);
}

TEST_CASE("malformed verifier texts are refused", "[pg_auth]") {
  const std::string_view bad[] = {
      "",
      "md5c31f6e1d3c4f7e2e2ef0c9fbd17d6f6e",
      "SCRAM-SHA-1$4096:AT3050BtChxTdmxaMg/WMA==$WUDWacUkipO1UIb0RPg8Ot1CJi58aPmMx7SXdqk4dfw=:"
      "rt0fJFdDpc0GEqP/q2T8X2AUb54JI27gzlsiF29HEiA=",
      "SCRAM-SHA-256$0:AT3050BtChxTdmxaMg/WMA==$WUDWacUkipO1UIb0RPg8Ot1CJi58aPmMx7SXdqk4dfw=:"
      "rt0fJFdDpc0GEqP/q2T8X2AUb54JI27gzlsiF29HEiA=",
      "SCRAM-SHA-256$4k:AT3050BtChxTdmxaMg/WMA==$WUDWacUkipO1UIb0RPg8Ot1CJi58aPmMx7SXdqk4dfw=:"
      "rt0fJFdDpc0GEqP/q2T8X2AUb54JI27gzlsiF29HEiA=",
      "SCRAM-SHA-256$4096:$WUDWacUkipO1UIb0RPg8Ot1CJi58aPmMx7SXdqk4dfw=:rt0fJFdDpc0GEqP/"
      "q2T8X2AUb54JI27gzlsiF29HEiA=",
      "SCRAM-SHA-256$4096:AT3050BtChxTdmxaMg/WMA==$WUDWacUkipO1UIb0RPg8Ot1CJi58aPmMx7SXdqk4dfw=",
      "SCRAM-SHA-256$4096:AT3050BtChxTdmxaMg/WMA==$WUDWacUkipO1UIb0RPg8Ot1CJi58aPmMx7SXdqk4=:"
      "rt0fJFdDpc0GEqP/q2T8X2AUb54JI27gzlsiF29HEiA=",
      "SCRAM-SHA-256$4096:AT3050BtChxTdmxaMg/WMA==$WUDWacUkipO1UIb0RPg8Ot1CJi58aPmMx7SXdqk4dfw=:"
      "rt0fJFdDpc0GEqP/q2T8X2AUb54JI27gzlsiF29HEiA",
      "SCRAM-SHA-256$4096:AT3050BtChxTdmxaMg/WMA==$WUDWacUkipO1UIb0RPg8Ot1CJi58aPmMx7SXdqk4dfw=:"
      "rt0fJFdDpc0GEqP/q2T8X2AUb54JI27gzlsiF29HEiA=$extra",
  };
  for (const auto text : bad) {
    INFO(text);
    CHECK_FALSE(scram::verifier::parse(text));
  }
}

TEST_CASE("malformed client-first messages are bad_message", "[pg_auth]") {
  const std::string_view bad[] = {
      "",
      "n,,",
      "n,,n=user",         // no nonce
      "n,,r=abc",          // no user name attribute
      "n,,n=user,r=",      // empty nonce
      "n,,n=user,r=abc,",  // dangling comma
      "n,,n=user,r=ab\x01"
      "c",                                     // unprintable nonce
      "p=tls-server-end-point,,n=user,r=abc",  // channel binding never advertised
      "n,a=admin,n=user,r=abc",                // authorization identity
      "x,,n=user,r=abc",                       // unknown cbind flag
      "n,,m=ext,n=user,r=abc",                 // mandatory extension
      "n,n=user,r=abc",                        // gs2 header missing a comma
      "n,,n=user,r=abc,1=x",                   // extension name is not a letter
  };
  for (const auto message : bad) {
    INFO(message);
    scram::server_exchange server(rfc_verifier(), std::string(rfc_server_nonce));
    CHECK(server.on_client_first(message).result == status::bad_message);
  }
}

TEST_CASE("client-first accepts the y flag and skips optional extensions", "[pg_auth]") {
  scram::server_exchange y_server(rfc_verifier(), "srv");
  CHECK(y_server.on_client_first("y,,n=,r=abc").message == "r=abcsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  scram::server_exchange ext_server(rfc_verifier(), "srv");
  CHECK(ext_server.on_client_first("n,,n=,r=abc,x=ext").result == status::ok);
}

TEST_CASE("malformed client-final messages are bad_message", "[pg_auth]") {
  const std::string nonce(rfc_combined_nonce);
  const std::string proof = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  const std::string bad[] = {
      "",
      "c=biws,r=" + nonce,                                        // no proof
      "c=biws," + proof,                                          // no nonce
      "r=" + nonce + "," + proof,                                 // no channel binding attribute
      "c=biws,r=" + std::string(rfc_client_nonce) + "," + proof,  // nonce not extended by the server's part
      "c=biws,r=" + nonce + "x," + proof,                         // nonce altered
      "c=eSws,r=" + nonce + "," + proof,                          // "y,," does not match the "n,," header
      "c=cD10bHMtc2VydmVyLWVuZC1wb2ludCws,r=" + nonce + "," + proof,           // channel binding data
      "c=bi*s,r=" + nonce + "," + proof,                                       // bad base64 in c=
      "c=biws,r=" + nonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",  // bad base64 in p=
      "c=biws,r=" + nonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7A=",     // proof too short
      "c=biws,r=" + nonce + "," + proof + ",x=after",                          // attribute after the proof
      "c=biws,r=" + nonce + "," + proof + ",",                                 // dangling comma
  };
  for (const auto& message : bad) {
    INFO(message);
    auto server = rfc_server_after_first();
    CHECK(server.on_client_final(message).result == status::bad_message);
  }
}

TEST_CASE("every truncation of a valid client-final is bad_message", "[pg_auth]") {
  for (std::size_t n = 0; n < rfc_client_final.size(); ++n) {
    INFO(n);
    auto server = rfc_server_after_first();
    CHECK(server.on_client_final(rfc_client_final.substr(0, n)).result == status::bad_message);
  }
}

TEST_CASE("extensions before the proof are part of the signed message", "[pg_auth]") {
  auto server = rfc_server_after_first();
  const std::string with_extension =
      "c=biws,r=" + std::string(rfc_combined_nonce) + ",x=ext,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  // The RFC proof signs a message without x=ext, so it no longer matches.
  CHECK(server.on_client_final(with_extension).result == status::wrong_password);
}

TEST_CASE("the server takes one client-final per exchange and none before client-first", "[pg_auth]") {
  scram::server_exchange fresh(rfc_verifier(), std::string(rfc_server_nonce));
  CHECK(fresh.on_client_final(rfc_client_final).result == status::bad_message);

  auto server = rfc_server_after_first();
  CHECK(server.on_client_first(rfc_client_first).result == status::bad_message);
  CHECK(server.on_client_final(rfc_client_final).result == status::ok);
  CHECK(server.on_client_final(rfc_client_final).result == status::bad_message);
}

TEST_CASE("a wrong proof is wrong_password", "[pg_auth]") {
  auto server = rfc_server_after_first();
  const std::string flipped =
      "c=biws,r=" + std::string(rfc_combined_nonce) + ",p=eHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  CHECK(server.on_client_final(flipped).result == status::wrong_password);
}

TEST_CASE("the client refuses a server that does not extend its nonce", "[pg_auth]") {
  const std::string same_nonce = "r=" + std::string(rfc_client_nonce) + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
  const std::string other_nonce = "r=XOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
  for (const auto& message : {same_nonce, other_nonce}) {
    scram::client_exchange client("pencil", std::string(rfc_client_nonce));
    client.client_first();
    CHECK(client.on_server_first(message).result == status::bad_server);
  }
}

TEST_CASE("malformed server-first messages are bad_message on the client", "[pg_auth]") {
  const std::string_view bad[] = {
      "",
      "r=rOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==",                 // no iterations
      "r=rOprNGfwEbeRWgbNEkqOsrv,i=4096",                                     // no salt
      "r=rOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ=,i=4096",           // bad base64
      "r=rOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",             // zero iterations
      "r=rOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096x",         // not a number
      "r=rOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,x=extra",  // garbage at end
      "m=ext,r=rOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",    // mandatory extension
  };
  for (const auto message : bad) {
    INFO(message);
    scram::client_exchange client("pencil", std::string(rfc_client_nonce));
    client.client_first();
    CHECK(client.on_server_first(message).result == status::bad_message);
  }
}

TEST_CASE("the client refuses a forged or refused server-final", "[pg_auth]") {
  const auto after_first = [] {
    scram::client_exchange client("pencil", std::string(rfc_client_nonce));
    client.client_first();
    REQUIRE(client.on_server_first(rfc_server_first).result == status::ok);
    return client;
  };
  auto forged = after_first();
  CHECK(forged.on_server_final(rfc_server_final).result == status::bad_server);  // signs "n=user", not "n="
  auto refused = after_first();
  CHECK(refused.on_server_final("e=invalid-proof").result == status::bad_server);
  auto garbled = after_first();
  CHECK(garbled.on_server_final("v=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg").result ==
        status::bad_message);
  auto trailing = after_first();
  CHECK(trailing.on_server_final(std::string(libpq_server_final) + ",x=1").result == status::bad_message);
  scram::client_exchange early("pencil");
  CHECK(early.on_server_final(libpq_server_final).result == status::bad_message);
}

TEST_CASE("mock verifiers are deterministic per user and secret and admit no password", "[pg_auth]") {
  const auto a = scram::mock_verifier("nobody", "server secret");
  CHECK(a.to_string() == scram::mock_verifier("nobody", "server secret").to_string());
  CHECK(a.salt.size() == 16);
  CHECK(a.iterations == scram::default_iterations);
  CHECK(a.salt != scram::mock_verifier("somebody", "server secret").salt);
  CHECK(a.salt != scram::mock_verifier("nobody", "other secret").salt);
  CHECK(scram::verifier::parse(a.to_string()));
  CHECK(run_exchange(a, "").first == status::wrong_password);
  CHECK(run_exchange(a, "nobody").first == status::wrong_password);
}

TEST_CASE("server nonces are random base64 when not given", "[pg_auth]") {
  scram::server_exchange one(rfc_verifier());
  scram::server_exchange two(rfc_verifier());
  const auto first_one = one.on_client_first("n,,n=,r=abc").message;
  const auto first_two = two.on_client_first("n,,n=,r=abc").message;
  CHECK(first_one != first_two);
  const auto nonce = first_one.substr(2, first_one.find(',') - 2);
  REQUIRE(nonce.size() == 3 + 24);  // client part + base64 of 18 random bytes
  CHECK(base64_decode(nonce.substr(3)));
  CHECK(scram::random_bytes(32).size() == 32);
}

TEST_CASE("the MD5 response matches PostgreSQL's md5(md5(password || user) || salt)", "[pg_auth]") {
  // Expected value from Python: "md5" + md5(md5(b"s3cretanalyst").hexdigest().encode() + b"\1\2\3\4").
  const std::array<std::byte, 4> salt{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  CHECK(phigate::pg::md5_password_response("analyst", "s3cret", salt) ==
        "md5e19b636f14661930ceaf2ccd58d591e5");
}

TEST_CASE("base64 matches the RFC 4648 test vectors", "[pg_auth]") {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [raw, text] : vectors) {
    CHECK(base64_encode(raw) == text);
    CHECK(base64_decode(text) == std::string(raw));
  }
}

TEST_CASE("base64 round-trips every byte value", "[pg_auth]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    CHECK(base64_decode(base64_encode(all.substr(n))) == all.substr(n));
  }
}

TEST_CASE("base64 refuses malformed text", "[pg_auth]") {
  for (const std::string_view text :
       {"Zg=", "Z===", "Zm9v!AAA", "Zg==Zg==", "=Zg=", "Zm 9", "Zm9v\n", "===="}) {
    INFO(text);
    CHECK_FALSE(base64_decode(text));
  }
}
