// The one table of processor modules, and the helpers every module uses.
#include <stdexcept>

#include "graph/plan.h"
#include "processors/processor.h"

namespace td {

// Each module defines its entry in its own file.
const ProcessorModule& gain_module();
const ProcessorModule& utility_module();
const ProcessorModule& eq_module();
const ProcessorModule& compressor_module();
const ProcessorModule& multiband_module();
const ProcessorModule& deesser_module();
const ProcessorModule& saturation_module();
const ProcessorModule& imager_module();
const ProcessorModule& limiter_module();
const ProcessorModule& pitch_module();
const ProcessorModule& console_module();
const ProcessorModule& console_channel_module();

const std::vector<const ProcessorModule*>& processor_modules() {
  static const std::vector<const ProcessorModule*> all = {
      &gain_module(), &eq_module(), &compressor_module(), &multiband_module(), &deesser_module(),
      &saturation_module(), &imager_module(), &limiter_module(), &utility_module(), &pitch_module(),
      &console_module(),
      // Internal (a '-' in the type: the parser refuses it in a file): each input's
      // channel path of a console bus, appended by the parser (console.h).
      &console_channel_module()};
  return all;
}

const ProcessorModule* find_processor(const std::string& type) {
  for (const ProcessorModule* m : processor_modules())
    if (type == m->spec().type) return m;
  return nullptr;
}

bool enabled(const Processor& p) {
  auto en = p.values.find("enabled");
  return en == p.values.end() || en->second.flag;
}

namespace {
const KeySpec& key_with_default(const ProcessorSpec& spec, const char* key) {
  const KeySpec* k = find_key(spec, key);
  if (!k || !k->has_default)
    throw std::logic_error(std::string(spec.type) + "." + key + ": no default in the schema");
  return *k;
}
}  // namespace

double setting(const Processor& p, const ProcessorSpec& spec, const char* key) {
  auto it = p.values.find(key);
  if (it != p.values.end() && it->second.kind == ProcessorValue::Kind::kNumber)
    return it->second.number;
  return key_with_default(spec, key).default_number;
}

std::string setting_text(const Processor& p, const ProcessorSpec& spec, const char* key) {
  auto it = p.values.find(key);
  if (it != p.values.end() && it->second.kind == ProcessorValue::Kind::kString)
    return it->second.text;
  return key_with_default(spec, key).default_text;
}

bool setting_flag(const Processor& p, const ProcessorSpec& spec, const char* key) {
  auto it = p.values.find(key);
  if (it != p.values.end() && it->second.kind == ProcessorValue::Kind::kBool)
    return it->second.flag;
  return key_with_default(spec, key).default_number != 0.0;
}

std::string given_text(const Processor& p, const char* key) {
  auto it = p.values.find(key);
  return it != p.values.end() && it->second.kind == ProcessorValue::Kind::kString ? it->second.text
                                                                                  : std::string();
}

const Processor& StageQuery::proc() const {
  return s.nodes[node].chain[pos];
}

std::vector<double> StageQuery::values(const std::string& key, int band) const {
  const Processor& p = proc();
  const ProcessorModule* m = find_processor(p.type);
  const ProcessorSpec& spec = band >= 0 ? *m->band_spec() : m->spec();
  std::vector<double> out = {setting(band >= 0 ? p.bands[band] : p, spec, key.c_str())};
  const std::vector<double> more = swept(key, band);
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

std::vector<double> StageQuery::swept(const std::string& key, int band) const {
  std::vector<double> out;
  for (const SweepAxis& axis : s.variants.sweep) {
    const SweepTarget& t = axis.target;
    if (t.node == node && t.processor == pos && t.band == band && t.key == key)
      out.insert(out.end(), axis.values.begin(), axis.values.end());
  }
  return out;
}

}  // namespace td
