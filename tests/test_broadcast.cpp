// broadcast_shapes and unbroadcast_add, tested directly against hand-computed sums.
#include "testing.hpp"

TEST_CASE("broadcast_shapes follows NumPy", "[broadcast]") {
  using S = ag::Shape;
  CHECK(ag::broadcast_shapes(S{2, 3, 4}, S{4}, "t") == S{2, 3, 4});
  CHECK(ag::broadcast_shapes(S{3, 1}, S{1, 4}, "t") == S{3, 4});
  CHECK(ag::broadcast_shapes(S{}, S{2, 2}, "t") == S{2, 2});
  CHECK(ag::broadcast_shapes(S{5, 1, 4}, S{3, 1}, "t") == S{5, 3, 4});
  CHECK_THROWS_WITH(ag::broadcast_shapes(S{2, 3}, S{4}, "add"),
                    Catch::Contains("add") && Catch::Contains("(2, 3)") && Catch::Contains("(4)"));
}

TEST_CASE("unbroadcast_add sums over stretched and missing axes", "[broadcast]") {
  // g of shape (2, 3) = [[1, 2, 3], [4, 5, 6]]
  const std::vector<double> g{1, 2, 3, 4, 5, 6};
  SECTION("to (3): sum over the missing leading axis") {
    std::vector<double> d(3, 0.0);
    ag::unbroadcast_add(g.data(), {2, 3}, d.data(), {3});
    CHECK(d == std::vector<double>{5, 7, 9});
  }
  SECTION("to (2, 1): sum over the stretched last axis") {
    std::vector<double> d(2, 0.0);
    ag::unbroadcast_add(g.data(), {2, 3}, d.data(), {2, 1});
    CHECK(d == std::vector<double>{6, 15});
  }
  SECTION("to (): sum of everything") {
    std::vector<double> d(1, 0.0);
    ag::unbroadcast_add(g.data(), {2, 3}, d.data(), {});
    CHECK(d[0] == 21);
  }
  SECTION("to (1, 3) and adds to what is there") {
    std::vector<double> d{100, 0, 0};
    ag::unbroadcast_add(g.data(), {2, 3}, d.data(), {1, 3});
    CHECK(d == std::vector<double>{105, 7, 9});
  }
  SECTION("same shape: plain add") {
    std::vector<double> d(6, 1.0);
    ag::unbroadcast_add(g.data(), {2, 3}, d.data(), {2, 3});
    CHECK(d == std::vector<double>{2, 3, 4, 5, 6, 7});
  }
}

TEST_CASE("broadcast_offsets maps output elements to input elements", "[broadcast]") {
  CHECK(ag::broadcast_offsets({3, 1}, {2, 3, 2}) == std::vector<std::size_t>{0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2});
  CHECK(ag::broadcast_offsets({2}, {3, 2}) == std::vector<std::size_t>{0, 1, 0, 1, 0, 1});
}
