//! Colour for people, plain text for everything else.
//!
//! Colour is decided once per run: `--color always|never`, else off when `NO_COLOR`
//! is set (https://no-color.org) or the stream is not a terminal. Every styled piece
//! of text also carries its meaning in words (`critical`, `ok`), so nothing is lost
//! without colour.

use std::io::IsTerminal;

use owo_colors::OwoColorize;

use crate::cli::ColorChoice;
use crate::finding::Severity;

/// Whether to colour a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    pub enabled: bool,
}

impl Palette {
    pub fn for_stdout(choice: ColorChoice) -> Self {
        Self::decide(choice, std::io::stdout().is_terminal())
    }

    pub fn for_stderr(choice: ColorChoice) -> Self {
        Self::decide(choice, std::io::stderr().is_terminal())
    }

    fn decide(choice: ColorChoice, terminal: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let enabled = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && !no_color,
        };
        Palette { enabled }
    }

    pub fn plain() -> Self {
        Palette { enabled: false }
    }

    pub fn severity(&self, severity: Severity) -> String {
        let label = severity.label();
        if !self.enabled {
            return label.to_string();
        }
        match severity {
            Severity::Ok => label.green().to_string(),
            Severity::Info => label.cyan().to_string(),
            Severity::Warning => label.yellow().bold().to_string(),
            Severity::Critical => label.red().bold().to_string(),
        }
    }

    pub fn bold(&self, text: &str) -> String {
        if self.enabled {
            text.bold().to_string()
        } else {
            text.to_string()
        }
    }

    pub fn dim(&self, text: &str) -> String {
        if self.enabled {
            text.dimmed().to_string()
        } else {
            text.to_string()
        }
    }

    pub fn error(&self, text: &str) -> String {
        if self.enabled {
            text.red().bold().to_string()
        } else {
            text.to_string()
        }
    }

    pub fn added(&self, text: &str) -> String {
        if self.enabled {
            text.green().to_string()
        } else {
            text.to_string()
        }
    }

    pub fn removed(&self, text: &str) -> String {
        if self.enabled {
            text.red().to_string()
        } else {
            text.to_string()
        }
    }
}

/// The width of text as shown, ignoring ANSI escapes, for aligning columns.
pub fn visible_width(text: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in text.chars() {
        if in_escape {
            if c.is_ascii_alphabetic() {
                in_escape = false;
            }
        } else if c == '\u{1b}' {
            in_escape = true;
        } else {
            width += 1;
        }
    }
    width
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_choice() {
        assert!(Palette::decide(ColorChoice::Always, false).enabled);
        assert!(!Palette::decide(ColorChoice::Never, true).enabled);
        assert!(!Palette::decide(ColorChoice::Auto, false).enabled);
    }

    #[test]
    fn plain_text_keeps_the_meaning() {
        assert_eq!(Palette::plain().severity(Severity::Critical), "critical");
        let coloured = Palette { enabled: true }.severity(Severity::Critical);
        assert_ne!(coloured, "critical");
        assert_eq!(visible_width(&coloured), "critical".len());
    }
}
