#include "experiments/lab/io.hpp"

#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace lab {

void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out || !(out << text) || !out.flush()) throw std::runtime_error("cannot write '" + tmp + "'");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot write '" + path + "'");
}

}  // namespace lab
