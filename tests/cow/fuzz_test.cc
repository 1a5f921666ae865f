#include <gtest/gtest.h>
TEST(CowFuzz, Placeholder) {}
