// One stateful stage's storage in a launch: parameter sets, states and float memory (delay
// lines, filter histories). Each session of a launch fills its own StageStore while its jobs
// are lowered, with indices already offset to where its share starts in the launch's
// arrays; the launch's LaunchStore places the sessions one after the other and hands the
// whole to the backend (Backend::allocate_stage).
#pragma once
#include <vector>

namespace td {

template <class Params>
struct StageStore {
  std::vector<Params> params;
  int states = 0;
  long long memory = 0;  // floats
  int param_offset = 0, state_offset = 0;
  long long memory_offset = 0;

  // Absolute indices (into the launch's arrays) of a new parameter set, state, memory.
  int add_params(const Params& p) {
    params.push_back(p);
    return param_offset + (int)params.size() - 1;
  }
  int add_state() { return state_offset + states++; }
  long long add_memory(long long floats) {
    const long long at = memory_offset + memory;
    memory += floats;
    return at;
  }
};

template <class Params>
struct LaunchStore {
  std::vector<Params> params;
  int states = 0;
  long long memory = 0;

  // Where the next session's share starts (before its jobs are lowered).
  void place(StageStore<Params>& s) const {
    s.param_offset = (int)params.size();
    s.state_offset = states;
    s.memory_offset = memory;
  }
  // The session's share, once lowered.
  void append(const StageStore<Params>& s) {
    params.insert(params.end(), s.params.begin(), s.params.end());
    states += s.states;
    memory += s.memory;
  }
};

}  // namespace td
