#include "minimodel/config_json.hpp"

#include <algorithm>
#include <cstdint>
#include <fmt/format.h>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>

#include "minimodel/errors.hpp"

namespace minimodel {

namespace {

using nlohmann::json;

// A member's value as JSON: numbers and booleans as they are, the enums by their names.
template <typename Value>
json json_of(Value value) {
  if constexpr (std::is_enum_v<Value>) {
    return std::string(to_string(value));
  } else {
    return value;
  }
}

// The JSON type each member type needs, as type_name() would call it.
constexpr std::string_view json_type_for(std::int64_t) { return "integer"; }
constexpr std::string_view json_type_for(double) { return "number"; }
constexpr std::string_view json_type_for(GeluForm) { return "string"; }
constexpr std::string_view json_type_for(NormKind) { return "string"; }
constexpr std::string_view json_type_for(bool) { return "boolean"; }

// "config JSON has d_model = "64", a JSON string; d_model must be a JSON integer, such as 64"
template <typename Value>
[[noreturn]] void wrong_type(std::string_view name, const json& found, Value locked) {
  throw ConfigError(fmt::format("config JSON has {} = {}, a JSON {}; {} must be a JSON {}, such as {}",
                                name, found.dump(), found.type_name(), name,
                                json_type_for(locked), json_of(locked).dump()));
}

// Reads a JSON value of the right type into `out`; the enums' parsers refuse unknown names.
// `locked` is the locked model's value of the field, quoted as an example in messages.
void read_json(std::string_view name, const json& value, std::int64_t locked, std::int64_t& out) {
  if (!value.is_number_integer()) wrong_type(name, value, locked);
  // nlohmann holds a non-negative integer as unsigned: one above 2^63 - 1 has no int64 value.
  if (value.is_number_unsigned() &&
      value.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    throw ConfigError(fmt::format("config JSON has {} = {}, too large for a 64-bit integer",
                                  name, value.dump()));
  }
  out = value.get<std::int64_t>();
}
void read_json(std::string_view name, const json& value, double locked, double& out) {
  if (!value.is_number()) wrong_type(name, value, locked);  // an integer such as 10000 is a number too
  out = value.get<double>();
}
void read_json(std::string_view name, const json& value, GeluForm locked, GeluForm& out) {
  if (!value.is_string()) wrong_type(name, value, locked);
  out = gelu_form_from_string(value.get_ref<const std::string&>());
}
void read_json(std::string_view name, const json& value, NormKind locked, NormKind& out) {
  if (!value.is_string()) wrong_type(name, value, locked);
  out = norm_kind_from_string(value.get_ref<const std::string&>());
}
void read_json(std::string_view name, const json& value, bool locked, bool& out) {
  if (!value.is_boolean()) wrong_type(name, value, locked);
  out = value.get<bool>();
}

bool is_field(std::string_view key) {
  return std::any_of(std::begin(kConfigFields), std::end(kConfigFields),
                     [&](const ConfigField& f) { return f.name == key; });
}

bool is_derived(std::string_view key) {
  return std::any_of(std::begin(kDerivedValues), std::end(kDerivedValues),
                     [&](const DerivedValue& d) { return d.name == key; });
}

std::string derived_names() { return names_of(kDerivedValues); }

}  // namespace

nlohmann::json config_to_json(const MiniGPTConfig& config) {
  json out = json::object();
  for (const ConfigField& field : kConfigFields) {
    std::visit([&](auto member) { out[std::string(field.name)] = json_of(config.values().*member); },
               field.member);
  }
  for (const DerivedValue& derived : kDerivedValues) {
    out[std::string(derived.name)] = (config.*derived.value)();
  }
  return out;
}

MiniGPTConfig config_from_json(const nlohmann::json& in) {
  if (!in.is_object()) {
    throw ConfigError(fmt::format("config JSON is a JSON {}, not an object with the fields {}",
                                  in.type_name(), config_field_names()));
  }
  for (const auto& [key, value] : in.items()) {
    if (!is_field(key) && !is_derived(key)) {
      throw ConfigError(fmt::format("config JSON has an unknown key '{}'; the fields are {} (and "
                                    "{}, derived from them)",
                                    key, config_field_names(), derived_names()));
    }
  }
  ConfigValues values;
  for (const ConfigField& field : kConfigFields) {
    const auto it = in.find(field.name);
    if (it == in.end()) {
      throw ConfigError(fmt::format("config JSON has no '{}'; a config needs every field: {}",
                                    field.name, config_field_names()));
    }
    std::visit([&](auto member) { read_json(field.name, *it, ConfigValues{}.*member, values.*member); },
               field.member);
  }
  const MiniGPTConfig config(values);  // validated here, with the constructor's own message
  // A derived value may be left out; one that is given must be what the fields imply.
  for (const DerivedValue& derived : kDerivedValues) {
    const auto it = in.find(derived.name);
    if (it == in.end()) continue;
    const std::size_t implied = (config.*derived.value)();
    if (*it != json(implied)) {
      throw ConfigError(fmt::format("config JSON has {} = {}, but its fields give {} = {}; {} is "
                                    "derived, not set (leave it out, or correct it)",
                                    derived.name, it->dump(), derived.name, implied, derived.name));
    }
  }
  return config;
}

}  // namespace minimodel
