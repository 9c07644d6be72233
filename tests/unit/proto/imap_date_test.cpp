#include "proto/imap/imap_date.hpp"

#include <gtest/gtest.h>

namespace postamt::proto::imap {
namespace {

TEST(ImapDate, DaysFromCivil) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  EXPECT_EQ(days_from_civil(2000, 2, 29), 11016);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(1600, 1, 1), -135140);
  EXPECT_EQ(days_from_civil(9999, 12, 31), 2932896);
  EXPECT_EQ(days_from_civil(0, 1, 1), -719528);
}

TEST(ImapDate, SearchDates) {
  EXPECT_EQ(parse_date("1-Feb-1994"), 8797);
  EXPECT_EQ(parse_date("01-Feb-1994"), 8797);
  EXPECT_EQ(parse_date("1-feb-1994"), 8797);
  EXPECT_EQ(parse_date("1-FEB-1994"), 8797);
  EXPECT_EQ(parse_date("29-Feb-2000"), 11016);
  EXPECT_EQ(parse_date("31-Dec-1969"), -1);
  EXPECT_EQ(parse_date("01-Jan-0000"), -719528);
  EXPECT_EQ(parse_date("31-Dec-9999"), 2932896);
  EXPECT_EQ(parse_date("29-Feb-2000").value(), days_from_civil(2000, 2, 29));
  for (const char* bad : {"",
                          "1",
                          "1-Feb",
                          "1-Feb-",
                          "1-Feb-94",
                          "1-Feb-19944",
                          "0-Feb-1994",
                          "32-Jan-1994",
                          "29-Feb-1900",
                          "29-Feb-1999",
                          "31-Apr-2000",
                          "001-Feb-1994",
                          "1-Febr-1994",
                          "1 Feb 1994",
                          "1-Feb-1994 ",
                          " 1-Feb-1994",
                          "1-Fe-1994",
                          "a-Feb-1994",
                          "1-Feb-199x",
                          "1/Feb/1994",
                          "-1-Feb-1994",
                          "+1-Feb-1994"}) {
    EXPECT_FALSE(parse_date(bad)) << bad;
  }
  EXPECT_EQ(parse_date("1-Feb-94").error(), "Invalid year in date");
  EXPECT_EQ(parse_date("1-Fev-1994").error(), "Invalid month in date");
  EXPECT_EQ(parse_date("30-Feb-1994").error(), "Invalid day in date");
}

TEST(ImapDate, DateTimes) {
  EXPECT_EQ(parse_date_time("17-Jul-1996 02:44:25 -0700"), 837596665);
  EXPECT_EQ(parse_date_time("17-Jul-1996 09:44:25 +0000"), 837596665);
  EXPECT_EQ(parse_date_time("17-Jul-1996 11:14:25 +0130"), 837596665);
  EXPECT_EQ(parse_date_time(" 7-Feb-1994 21:52:25 +0100"), 760654345);
  EXPECT_EQ(parse_date_time("07-Feb-1994 21:52:25 +0100"), 760654345);
  EXPECT_EQ(parse_date_time("7-Feb-1994 21:52:25 +0100"), 760654345);
  EXPECT_EQ(parse_date_time("01-Jan-1970 00:00:00 +0000"), 0);
  EXPECT_EQ(parse_date_time("01-Jan-1970 00:00:00 +0100"), -3600);
  EXPECT_EQ(parse_date_time("31-Dec-1969 23:59:59 -0000"), -1);
  EXPECT_EQ(parse_date_time("30-Jun-2015 23:59:60 +0000"), 1435708800);  // leap second
  EXPECT_EQ(parse_date_time("31-dec-9999 23:59:59 -2359"), 253402300799 + 86340);
  for (const char* bad : {"",
                          "17-Jul-1996",
                          "17-Jul-1996 02:44:25",
                          "17-Jul-1996 02:44:25 0700",
                          "17-Jul-1996 02:44:25 -07:00",
                          "17-Jul-1996 02:44:25 -070",
                          "17-Jul-1996 02:44:25 -07000",
                          "17-Jul-1996 24:00:00 +0000",
                          "17-Jul-1996 23:60:00 +0000",
                          "17-Jul-1996 23:59:61 +0000",
                          "17-Jul-1996 2:44:25 +0000",
                          "17-Jul-1996 02:44 +0000",
                          "17-Jul-1996  02:44:25 +0000",
                          "17-Jul-1996 02:44:25  +0000",
                          "17-Jul-1996 02:44:25 +2400",
                          "17-Jul-1996 02:44:25 +0060",
                          "  7-Feb-1994 21:52:25 +0100",
                          " 17-Feb-1994 21:52:25 +0100",
                          "117-Feb-1994 21:52:25 +0100",
                          "31-Jun-1996 02:44:25 +0000",
                          "17-Jul-96 02:44:25 +0000",
                          "17-Jul-1996 02:44:25 +0000 ",
                          "17-Jul-1996T02:44:25 +0000",
                          "17-Jul-1996 02-44-25 +0000",
                          " x-Feb-1994 21:52:25 +0100",
                          " ",
                          "1"}) {
    EXPECT_FALSE(parse_date_time(bad)) << bad;
  }
  EXPECT_EQ(parse_date_time("17-Jul-1996 24:00:00 +0000").error(), "Invalid time in date-time");
  EXPECT_EQ(parse_date_time("17-Jul-1996 02:44:25 +2400").error(), "Invalid zone in date-time");
  EXPECT_EQ(parse_date_time("17-Jux-1996 02:44:25 +0000").error(), "Invalid month in date-time");
}

TEST(ImapDate, Format) {
  EXPECT_EQ(format_date_time(837596665), "17-Jul-1996 09:44:25 +0000");
  EXPECT_EQ(format_date_time(0), "01-Jan-1970 00:00:00 +0000");
  EXPECT_EQ(format_date_time(-1), "31-Dec-1969 23:59:59 +0000");
  EXPECT_EQ(format_date_time(951782400), "29-Feb-2000 00:00:00 +0000");
  EXPECT_EQ(format_date_time(253402300799), "31-Dec-9999 23:59:59 +0000");
  EXPECT_EQ(format_date_time(INT64_MAX), "31-Dec-9999 23:59:59 +0000");
  EXPECT_EQ(format_date_time(INT64_MIN), "01-Jan-0000 00:00:00 +0000");
  for (UnixSeconds t : {UnixSeconds{0}, UnixSeconds{760654345}, UnixSeconds{-86401},
                        UnixSeconds{4102444799}, UnixSeconds{-62167219200}}) {
    EXPECT_EQ(parse_date_time(format_date_time(t)), t) << t;
  }
}

}  // namespace
}  // namespace postamt::proto::imap
