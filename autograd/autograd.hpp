// The whole public API of the engine in one include.
#pragma once
#include "autograd/ops.hpp"
#include "autograd/parallel.hpp"
#include "autograd/rng.hpp"
#include "autograd/tape.hpp"
#include "autograd/tensor.hpp"
#include "autograd/gradcheck.hpp"
#include "autograd/reference.hpp"
