#include "gateway/review_tui.hpp"

#include <unistd.h>

#include <chrono>
#include <clocale>
#include <iostream>
#include <string>
#include <vector>

#include "approvals/review_format.hpp"
#include "approvals/review_model.hpp"
#include "gateway/review_feed.hpp"

// curses defines function-like macros named move(), erase(), clear(), timeout()...; without this, std::move
// and friends stop compiling.
#define NCURSES_NOMACROS
#include <curses.h>

namespace phigate {
namespace {

namespace ap = approvals;

constexpr int key_escape = 27;
constexpr int key_delete = 127;
constexpr int key_backspace_ctrl_h = 8;
constexpr int key_ctrl_u = 21;
constexpr int input_wait_ms = 250;  // getch() wakes this often to redraw countdowns and take events
constexpr int escape_delay_ms = 25;
constexpr short pair_error = 1;
constexpr short pair_warning = 2;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const std::vector<std::string> help_lines = {
    "phigate review: pending approval requests, live from the admin API",
    "",
    "  Up/Down, j/k     move            PgUp/PgDn    page",
    "  Home/End, g/G    first / last    Enter        details of the request",
    "  a                approve (asks y/n)",
    "  d                deny (asks for a reason)",
    "  /                filter by requester, kind, database, rule or id (Esc clears)",
    "  s                show all states / only pending",
    "  r                refresh the whole list now",
    "  q                quit (in details: back to the list; Esc, Left and h too)",
    "  ?                this help",
    "",
    "The countdown is the time left before an undecided request expires.",
    "Press any key to go back.",
};

// initscr()/endwin() as an object, so every way out of the UI restores the terminal.
class curses_session {
 public:
  curses_session() {
    ::initscr();
    ::cbreak();
    ::noecho();
    ::keypad(stdscr, TRUE);
    ::curs_set(0);
    ::set_escdelay(escape_delay_ms);
    ::timeout(input_wait_ms);
    if (::has_colors()) {
      ::start_color();
      ::use_default_colors();
      ::init_pair(pair_error, COLOR_RED, -1);
      ::init_pair(pair_warning, COLOR_YELLOW, -1);
    }
  }
  curses_session(const curses_session&) = delete;
  curses_session& operator=(const curses_session&) = delete;
  ~curses_session() { ::endwin(); }
};

enum class screen { list, detail, help };
enum class prompt { none, confirm_approve, deny_reason, filter };

class review_app {
 public:
  review_app(review_feed& feed, std::string api) : feed_(feed), api_(std::move(api)) {}

  void run() {
    while (running_) {
      absorb(feed_.take_events());
      draw();
      const int ch = ::getch();
      if (ch != ERR) handle_key(ch);
    }
  }

 private:
  void absorb(std::vector<review_event> events);
  void draw();
  void draw_title();
  void draw_list();
  void draw_detail();
  void draw_help();
  void draw_bottom();
  void handle_key(int ch);
  void handle_list_key(int ch);
  void handle_detail_key(int ch);
  void handle_prompt_key(int ch);
  void start_vote(prompt kind);
  const ap::request* current() const;
  void say(std::string text, bool error) {
    status_ = std::move(text);
    status_is_error_ = error;
  }

  review_feed& feed_;
  std::string api_;
  std::string identity_;
  ap::review_model model_;
  screen screen_ = screen::list;
  screen before_help_ = screen::list;
  prompt prompt_ = prompt::none;
  std::string input_;
  std::string filter_before_;
  std::string target_id_;  // the request a prompt acts on
  std::string detail_id_;
  std::size_t detail_scroll_ = 0;
  std::size_t list_top_ = 0;
  std::string status_ = "connecting...";
  bool status_is_error_ = false;
  bool loaded_ = false;
  bool running_ = true;
};

// Writes `text` at (y, x), cut to the screen, with `attrs`.
void put(int y, int x, std::string_view text, attr_t attrs = A_NORMAL) {
  if (y < 0 || y >= LINES || x >= COLS) return;
  const auto room = static_cast<std::size_t>(COLS - x);
  ::attron(attrs);
  ::mvaddstr(y, x, ap::fit_text(text, room).c_str());
  ::attroff(attrs);
}

// A full-width bar (title, key line); the last cell is left out so the bottom-right corner never scrolls.
void put_bar(int y, std::string_view text, attr_t attrs) {
  if (COLS < 2) return;
  ::attron(attrs);
  ::mvaddstr(y, 0, ap::pad_text(text, static_cast<std::size_t>(COLS - 1)).c_str());
  ::attroff(attrs);
}

void review_app::absorb(std::vector<review_event> events) {
  for (auto& e : events) {
    switch (e.what) {
      case review_event::type::replaced:
        model_.replace_all(std::move(e.requests));
        if (!loaded_ && !status_is_error_) say("", false);
        loaded_ = true;
        break;
      case review_event::type::changed:
        model_.apply_changes(e.requests);
        break;
      case review_event::type::identity:
        identity_ = e.identity.identity;
        break;
      case review_event::type::error:
        say(std::move(e.message), true);
        break;
      case review_event::type::notice:
        say(std::move(e.message), false);
        break;
    }
  }
}

const ap::request* review_app::current() const {
  return screen_ == screen::detail ? model_.find(detail_id_) : model_.selected();
}

void review_app::draw() {
  ::erase();
  draw_title();
  if (screen_ == screen::list) draw_list();
  if (screen_ == screen::detail) draw_detail();
  if (screen_ == screen::help) draw_help();
  draw_bottom();
  ::refresh();
}

void review_app::draw_title() {
  std::size_t pending = 0;
  for (const auto* r : model_.visible()) pending += r->state == ap::request_state::pending ? 1 : 0;
  std::string title = " phigate review  " + (identity_.empty() ? std::string("?") : identity_) + " @ " + api_;
  title += "  | " + std::to_string(pending) + " pending";
  if (model_.show_all()) title += " | all states";
  if (!model_.filter().empty()) title += " | filter: " + model_.filter();
  put_bar(0, title, A_REVERSE);
}

void review_app::draw_list() {
  std::vector<ap::review_column> columns = {ap::review_column::id,        ap::review_column::age,
                                            ap::review_column::requester, ap::review_column::kind,
                                            ap::review_column::database,  ap::review_column::rule,
                                            ap::review_column::expires};
  if (model_.show_all()) columns.insert(columns.begin() + 1, ap::review_column::state);
  const auto rows_shown = model_.visible();
  const auto now = now_ms();
  std::vector<std::vector<std::string>> cells{ap::table_titles(columns)};
  for (const auto* r : rows_shown) cells.push_back(ap::table_cells(*r, columns, now));
  const auto widths = ap::fit_columns(cells, static_cast<std::size_t>(std::max(COLS - 1, 1)));
  put(1, 0, ap::format_row(cells[0], widths), A_BOLD);
  const int first_row = 2;
  const int room = std::max(LINES - 4, 1);
  if (rows_shown.empty()) {
    put(first_row + 1, 2,
        !loaded_                  ? "loading..."
        : model_.filter().empty() ? "no pending requests"
                                  : "no requests match the filter");
    return;
  }
  const std::size_t selected = model_.selected_index();
  const auto page = static_cast<std::size_t>(room);
  if (selected < list_top_) list_top_ = selected;
  if (selected >= list_top_ + page) list_top_ = selected - page + 1;
  if (list_top_ >= rows_shown.size()) list_top_ = 0;
  for (std::size_t i = list_top_; i < rows_shown.size() && i < list_top_ + page; ++i) {
    const int y = first_row + static_cast<int>(i - list_top_);
    const std::string line = ap::format_row(cells[i + 1], widths);
    if (i == selected) {
      put_bar(y, line, A_REVERSE);
    } else {
      put(y, 0, line, rows_shown[i]->masking_lifted ? A_BOLD : A_NORMAL);
    }
  }
}

void review_app::draw_detail() {
  const ap::request* r = model_.find(detail_id_);
  if (r == nullptr) {
    put(2, 2, detail_id_ + " is no longer listed");
    return;
  }
  const auto lines = ap::detail_lines(*r, now_ms(), static_cast<std::size_t>(std::max(COLS - 1, 1)));
  const int room = std::max(LINES - 3, 1);
  const std::size_t max_scroll = lines.size() > static_cast<std::size_t>(room) ? lines.size() - room : 0;
  detail_scroll_ = std::min(detail_scroll_, max_scroll);
  for (int row = 0; row < room && detail_scroll_ + row < lines.size(); ++row) {
    const auto& line = lines[detail_scroll_ + row];
    attr_t attrs = A_NORMAL;
    if (line.rfind("Masking", 0) == 0 && r->masking_lifted) {
      attrs = A_BOLD | (::has_colors() ? COLOR_PAIR(pair_warning) : A_NORMAL);
    } else if (line == "Statement" || line == "Parameters" || (detail_scroll_ + row == 0)) {
      attrs = A_BOLD;
    }
    put(1 + row, 0, line, attrs);
  }
}

void review_app::draw_help() {
  for (std::size_t i = 0; i < help_lines.size() && static_cast<int>(i) + 2 < LINES - 2; ++i) {
    put(2 + static_cast<int>(i), 1, help_lines[i], i == 0 ? A_BOLD : A_NORMAL);
  }
}

void review_app::draw_bottom() {
  if (!status_.empty()) {
    const attr_t attrs =
        status_is_error_ ? (A_BOLD | (::has_colors() ? COLOR_PAIR(pair_error) : A_NORMAL)) : A_NORMAL;
    put(LINES - 2, 0, (status_is_error_ ? "error: " : "") + status_, attrs);
  }
  std::string keys;
  switch (prompt_) {
    case prompt::confirm_approve:
      keys = "Approve " + target_id_ + "? [y/N] ";
      break;
    case prompt::deny_reason:
      keys = "Deny " + target_id_ + ", reason (Enter sends, Esc cancels): " + input_;
      break;
    case prompt::filter:
      keys = "Filter (Enter keeps, Esc clears): " + input_;
      break;
    case prompt::none:
      keys = screen_ == screen::detail
                 ? " a approve  d deny  Up/Down scroll  q/Esc back  ? help"
                 : " Enter details  a approve  d deny  / filter  s all states  ? help  q quit";
      break;
  }
  put_bar(LINES - 1, keys, prompt_ == prompt::none ? A_REVERSE : A_BOLD);
}

void review_app::handle_key(int ch) {
  if (ch == KEY_RESIZE) return;  // ncurses has updated LINES/COLS; the next draw() uses them
  if (prompt_ != prompt::none) return handle_prompt_key(ch);
  if (screen_ == screen::help) {
    screen_ = before_help_;
    return;
  }
  switch (ch) {
    case '?':
      before_help_ = screen_;
      screen_ = screen::help;
      return;
    case 'a':
      return start_vote(prompt::confirm_approve);
    case 'd':
      return start_vote(prompt::deny_reason);
    case 'r':
      feed_.refresh();
      say("refreshing...", false);
      return;
    default:
      break;
  }
  if (screen_ == screen::detail) return handle_detail_key(ch);
  handle_list_key(ch);
}

void review_app::handle_list_key(int ch) {
  const auto page = static_cast<std::ptrdiff_t>(std::max(LINES - 4, 1));
  switch (ch) {
    case KEY_UP:
    case 'k':
      model_.move_selection(-1);
      break;
    case KEY_DOWN:
    case 'j':
      model_.move_selection(1);
      break;
    case KEY_PPAGE:
      model_.move_selection(-page);
      break;
    case KEY_NPAGE:
      model_.move_selection(page);
      break;
    case KEY_HOME:
    case 'g':
      model_.select_first();
      break;
    case KEY_END:
    case 'G':
      model_.select_last();
      break;
    case '\n':
    case '\r':
    case KEY_ENTER:
    case KEY_RIGHT:
      if (const auto* r = model_.selected()) {
        detail_id_ = r->id;
        detail_scroll_ = 0;
        screen_ = screen::detail;
      }
      break;
    case '/':
      filter_before_ = model_.filter();
      input_ = model_.filter();
      prompt_ = prompt::filter;
      break;
    case 's':
      model_.set_show_all(!model_.show_all());
      say(model_.show_all() ? "showing every state" : "showing pending requests", false);
      break;
    case 'q':
      running_ = false;
      break;
    default:
      break;
  }
}

void review_app::handle_detail_key(int ch) {
  switch (ch) {
    case KEY_UP:
    case 'k':
      if (detail_scroll_ > 0) --detail_scroll_;
      break;
    case KEY_DOWN:
    case 'j':
      ++detail_scroll_;
      break;  // draw_detail() clamps
    case KEY_PPAGE:
      detail_scroll_ -= std::min<std::size_t>(detail_scroll_, std::max(LINES - 3, 1));
      break;
    case KEY_NPAGE:
      detail_scroll_ += static_cast<std::size_t>(std::max(LINES - 3, 1));
      break;
    case KEY_HOME:
    case 'g':
      detail_scroll_ = 0;
      break;
    case 'q':
    case 'h':
    case key_escape:
    case KEY_LEFT:
    case KEY_BACKSPACE:
    case key_delete:
      screen_ = screen::list;
      break;
    default:
      break;
  }
}

void review_app::start_vote(prompt kind) {
  const ap::request* r = current();
  if (r == nullptr) {
    say("no request selected", true);
    return;
  }
  target_id_ = r->id;
  input_.clear();
  prompt_ = kind;
}

// Removes the last UTF-8 code point of `text`.
void pop_code_point(std::string& text) {
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xc0) == 0x80) text.pop_back();
  if (!text.empty()) text.pop_back();
}

void review_app::handle_prompt_key(int ch) {
  if (prompt_ == prompt::confirm_approve) {
    prompt_ = prompt::none;
    if (ch == 'y' || ch == 'Y') {
      feed_.vote(target_id_, true, "");
      say("approving " + target_id_ + "...", false);
    } else {
      say("approve cancelled", false);
    }
    return;
  }
  const bool filtering = prompt_ == prompt::filter;
  if (ch == key_escape) {
    if (filtering) model_.set_filter("");
    prompt_ = prompt::none;
    if (!filtering) say("deny cancelled", false);
    return;
  }
  if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
    if (filtering) {
      prompt_ = prompt::none;
      return;
    }
    if (input_.find_first_not_of(' ') == std::string::npos) {
      say("a reason is required to deny", true);
      return;
    }
    prompt_ = prompt::none;
    feed_.vote(target_id_, false, input_);
    say("denying " + target_id_ + "...", false);
    return;
  }
  if (ch == KEY_BACKSPACE || ch == key_delete || ch == key_backspace_ctrl_h) {
    pop_code_point(input_);
  } else if (ch == key_ctrl_u) {
    input_.clear();
  } else if (ch >= ' ' && ch < 256 && ch != key_delete) {
    input_.push_back(static_cast<char>(ch));  // UTF-8 arrives one byte per getch()
  } else {
    return;
  }
  if (filtering) model_.set_filter(input_);
}

}  // namespace

CLI::App* add_review_command(CLI::App& app, review_tui_options& options) {
  auto* review = app.add_subcommand("review", "Terminal UI for approvers: pending requests, approve, deny");
  add_admin_cli_options(*review, options.connection);
  return review;
}

int run_review_tui(const review_tui_options& options) {
  review_feed feed;
  auto poll_client = make_admin_client(options.connection, feed.stop_token());
  auto action_client = make_admin_client(options.connection, feed.stop_token());
  if (auto* message = std::get_if<std::string>(&poll_client)) {
    std::cerr << "phigate review: " << *message << "\n";
    return exit_usage;
  }
  if (!::isatty(STDIN_FILENO) || !::isatty(STDOUT_FILENO)) {
    std::cerr << "phigate review: needs a terminal (use `phigate approvals` in scripts)\n";
    return exit_usage;
  }
  const std::string api = std::get<admin_client>(poll_client).endpoint().display;
  std::setlocale(LC_ALL, "");  // UTF-8 names and statements draw as characters, not bytes
  feed.start(std::get<admin_client>(std::move(poll_client)),
             std::get<admin_client>(std::move(action_client)));
  curses_session session;
  review_app app(feed, api);
  app.run();
  return exit_ok;
}

}  // namespace phigate
