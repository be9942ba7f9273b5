//! The chat form of a message: the custom-notification format of Amazon Q Developer in chat
//! applications (AWS Chatbot).

use serde_json::json;

use super::Notification;
use crate::finding::Severity;

/// Longest `description` of a chat message: chat clients fold long messages; the whole message
/// is in the inbox and the EventBridge event.
const CHAT_DESCRIPTION_LIMIT: usize = 3500;

impl Notification {
    /// The same message in the custom-notification format of Amazon Q Developer in chat
    /// applications (AWS Chatbot), so that it renders in Slack, Teams and Chime: `version`
    /// `1.0`, `source` `custom`, `content` with a markdown title and description, and
    /// `metadata` (docs/chatbot-notification.schema.json). The attributes stay, so that the chat
    /// topic's subscriptions can filter as the inbox's do.
    pub fn for_chat(&self) -> Notification {
        let mut description: String = self.text.chars().take(CHAT_DESCRIPTION_LIMIT).collect();
        if description.len() < self.text.len() {
            description.push_str("\n… (the whole message is in the security inbox)");
        }
        let marker = match self.severity {
            Severity::Critical => ":rotating_light:",
            Severity::High => ":warning:",
            _ => ":information_source:",
        };
        let keywords: Vec<&str> = ["severity", "action", "kind"]
            .into_iter()
            .map(|name| self.attribute(name))
            .filter(|v| !v.is_empty())
            .collect();
        let context: serde_json::Map<String, serde_json::Value> = self
            .attributes
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        let document = json!({
            "version": "1.0",
            "source": "custom",
            "content": {
                "textType": "client-markdown",
                "title": format!("{marker} {}", self.subject),
                "description": format!("```\n{description}\n```"),
                "keywords": keywords,
            },
            "metadata": {
                "summary": self.subject,
                "eventType": format!("sgguard {}", self.attribute("kind")),
                "additionalContext": context,
            },
        })
        .to_string();
        Notification {
            text: document.clone(),
            json: document,
            ..self.clone()
        }
    }
}
