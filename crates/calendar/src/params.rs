//! Query parameters of the list and write methods.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::error::Error;
use crate::types::EventType;

/// `orderBy` of `events.list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderBy {
    /// `startTime`: ascending start; only with `singleEvents=true`.
    StartTime,
    /// `updated`: ascending last modification time.
    Updated,
}

impl OrderBy {
    fn as_str(self) -> &'static str {
        match self {
            Self::StartTime => "startTime",
            Self::Updated => "updated",
        }
    }
}

/// `sendUpdates` of the write methods: who gets notification emails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendUpdates {
    /// `all`: every guest.
    All,
    /// `externalOnly`: guests outside Google Calendar.
    ExternalOnly,
    /// `none`: nobody (some emails may still be sent).
    None,
}

impl SendUpdates {
    fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::ExternalOnly => "externalOnly",
            Self::None => "none",
        }
    }
}

/// The filters of `events.list` (all optional). Google refuses a `syncToken` together with
/// `iCalUID`, `orderBy`, `privateExtendedProperty`, `q`, `sharedExtendedProperty`, `timeMin`,
/// `timeMax` or `updatedMin`; this crate refuses that combination before sending.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventListParams {
    /// `iCalUID`: only events with this iCalendar UID.
    pub ical_uid: Option<String>,
    /// `maxAttendees`: trim the attendee lists.
    pub max_attendees: Option<u32>,
    /// `maxResults`: page size (default 250, at most 2500).
    pub max_results: Option<u32>,
    /// `orderBy`.
    pub order_by: Option<OrderBy>,
    /// `pageToken`: which page (set by the sync helper as it goes).
    pub page_token: Option<String>,
    /// `privateExtendedProperty`: `name=value` constraints, all of which must match.
    pub private_extended_property: Vec<(String, String)>,
    /// `q`: free-text search.
    pub q: Option<String>,
    /// `sharedExtendedProperty`: `name=value` constraints, all of which must match.
    pub shared_extended_property: Vec<(String, String)>,
    /// `showDeleted`: include cancelled events.
    pub show_deleted: Option<bool>,
    /// `showHiddenInvitations`.
    pub show_hidden_invitations: Option<bool>,
    /// `singleEvents`: expand recurring events into instances.
    pub single_events: Option<bool>,
    /// `syncToken`: only changes since the sync that returned it.
    pub sync_token: Option<String>,
    /// `timeMax`: events starting before this (exclusive).
    pub time_max: Option<DateTime<Utc>>,
    /// `timeMin`: events ending after this (exclusive).
    pub time_min: Option<DateTime<Utc>>,
    /// `timeZone` of the response.
    pub time_zone: Option<String>,
    /// `updatedMin`: events modified after this.
    pub updated_min: Option<DateTime<Utc>>,
    /// `eventTypes`: only these types.
    pub event_types: Vec<EventType>,
}

impl EventListParams {
    /// No filters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `iCalUID`.
    pub fn with_ical_uid(mut self, ical_uid: impl Into<String>) -> Self {
        self.ical_uid = Some(ical_uid.into());
        self
    }

    /// Sets `maxAttendees`.
    pub fn with_max_attendees(mut self, max_attendees: u32) -> Self {
        self.max_attendees = Some(max_attendees);
        self
    }

    /// Sets `maxResults`.
    pub fn with_max_results(mut self, max_results: u32) -> Self {
        self.max_results = Some(max_results);
        self
    }

    /// Sets `orderBy`.
    pub fn with_order_by(mut self, order_by: OrderBy) -> Self {
        self.order_by = Some(order_by);
        self
    }

    /// Sets `pageToken`.
    pub fn with_page_token(mut self, page_token: impl Into<String>) -> Self {
        self.page_token = Some(page_token.into());
        self
    }

    /// Adds a `privateExtendedProperty=name=value` constraint.
    pub fn with_private_extended_property(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.private_extended_property.push((name.into(), value.into()));
        self
    }

    /// Sets `q`.
    pub fn with_q(mut self, q: impl Into<String>) -> Self {
        self.q = Some(q.into());
        self
    }

    /// Adds a `sharedExtendedProperty=name=value` constraint.
    pub fn with_shared_extended_property(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.shared_extended_property.push((name.into(), value.into()));
        self
    }

    /// Sets `showDeleted`.
    pub fn with_show_deleted(mut self, show_deleted: bool) -> Self {
        self.show_deleted = Some(show_deleted);
        self
    }

    /// Sets `showHiddenInvitations`.
    pub fn with_show_hidden_invitations(mut self, show: bool) -> Self {
        self.show_hidden_invitations = Some(show);
        self
    }

    /// Sets `singleEvents`.
    pub fn with_single_events(mut self, single_events: bool) -> Self {
        self.single_events = Some(single_events);
        self
    }

    /// Sets `syncToken`.
    pub fn with_sync_token(mut self, sync_token: impl Into<String>) -> Self {
        self.sync_token = Some(sync_token.into());
        self
    }

    /// Sets `timeMax`.
    pub fn with_time_max(mut self, time_max: DateTime<Utc>) -> Self {
        self.time_max = Some(time_max);
        self
    }

    /// Sets `timeMin`.
    pub fn with_time_min(mut self, time_min: DateTime<Utc>) -> Self {
        self.time_min = Some(time_min);
        self
    }

    /// Sets `timeZone`.
    pub fn with_time_zone(mut self, time_zone: impl Into<String>) -> Self {
        self.time_zone = Some(time_zone.into());
        self
    }

    /// Sets `updatedMin`.
    pub fn with_updated_min(mut self, updated_min: DateTime<Utc>) -> Self {
        self.updated_min = Some(updated_min);
        self
    }

    /// Sets `eventTypes`.
    pub fn with_event_types(mut self, event_types: impl IntoIterator<Item = EventType>) -> Self {
        self.event_types = event_types.into_iter().collect();
        self
    }

    /// Refuses what Google would refuse: a `syncToken` with any of the parameters it may not be
    /// combined with.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] naming the offending parameters.
    pub fn validate(&self) -> Result<(), Error> {
        if self.sync_token.is_none() {
            return Ok(());
        }
        let conflicts: Vec<&str> = [
            ("iCalUID", self.ical_uid.is_some()),
            ("orderBy", self.order_by.is_some()),
            ("privateExtendedProperty", !self.private_extended_property.is_empty()),
            ("q", self.q.is_some()),
            ("sharedExtendedProperty", !self.shared_extended_property.is_empty()),
            ("timeMin", self.time_min.is_some()),
            ("timeMax", self.time_max.is_some()),
            ("updatedMin", self.updated_min.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
        if conflicts.is_empty() {
            return Ok(());
        }
        Err(Error::invalid_request(format!(
            "syncToken cannot be combined with {}: Google ignores or rejects them in an incremental sync; \
             send the same other filters as the full sync that produced the token",
            conflicts.join(", ")
        )))
    }

    pub(crate) fn to_query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        for event_type in &self.event_types {
            query.push(("eventTypes", event_type.as_str().to_owned()));
        }
        if let Some(value) = &self.ical_uid {
            query.push(("iCalUID", value.clone()));
        }
        if let Some(value) = self.max_attendees {
            query.push(("maxAttendees", value.to_string()));
        }
        if let Some(value) = self.max_results {
            query.push(("maxResults", value.to_string()));
        }
        if let Some(value) = self.order_by {
            query.push(("orderBy", value.as_str().to_owned()));
        }
        if let Some(value) = &self.page_token {
            query.push(("pageToken", value.clone()));
        }
        for (name, value) in &self.private_extended_property {
            query.push(("privateExtendedProperty", format!("{name}={value}")));
        }
        if let Some(value) = &self.q {
            query.push(("q", value.clone()));
        }
        for (name, value) in &self.shared_extended_property {
            query.push(("sharedExtendedProperty", format!("{name}={value}")));
        }
        if let Some(value) = self.show_deleted {
            query.push(("showDeleted", value.to_string()));
        }
        if let Some(value) = self.show_hidden_invitations {
            query.push(("showHiddenInvitations", value.to_string()));
        }
        if let Some(value) = self.single_events {
            query.push(("singleEvents", value.to_string()));
        }
        if let Some(value) = &self.sync_token {
            query.push(("syncToken", value.clone()));
        }
        if let Some(value) = self.time_max {
            query.push(("timeMax", rfc3339(value)));
        }
        if let Some(value) = self.time_min {
            query.push(("timeMin", rfc3339(value)));
        }
        if let Some(value) = &self.time_zone {
            query.push(("timeZone", value.clone()));
        }
        if let Some(value) = self.updated_min {
            query.push(("updatedMin", rfc3339(value)));
        }
        query
    }
}

/// The filters of `calendarList.list` (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CalendarListParams {
    /// `maxResults`: page size (default 100, at most 250).
    pub max_results: Option<u32>,
    /// `minAccessRole`: `freeBusyReader`, `reader`, `writer` or `owner`.
    pub min_access_role: Option<String>,
    /// `pageToken`.
    pub page_token: Option<String>,
    /// `showDeleted`.
    pub show_deleted: Option<bool>,
    /// `showHidden`.
    pub show_hidden: Option<bool>,
    /// `syncToken`.
    pub sync_token: Option<String>,
}

impl CalendarListParams {
    /// No filters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `maxResults`.
    pub fn with_max_results(mut self, max_results: u32) -> Self {
        self.max_results = Some(max_results);
        self
    }

    /// Sets `minAccessRole`.
    pub fn with_min_access_role(mut self, role: impl Into<String>) -> Self {
        self.min_access_role = Some(role.into());
        self
    }

    /// Sets `pageToken`.
    pub fn with_page_token(mut self, page_token: impl Into<String>) -> Self {
        self.page_token = Some(page_token.into());
        self
    }

    /// Sets `showDeleted`.
    pub fn with_show_deleted(mut self, show_deleted: bool) -> Self {
        self.show_deleted = Some(show_deleted);
        self
    }

    /// Sets `showHidden`.
    pub fn with_show_hidden(mut self, show_hidden: bool) -> Self {
        self.show_hidden = Some(show_hidden);
        self
    }

    /// Sets `syncToken`.
    pub fn with_sync_token(mut self, sync_token: impl Into<String>) -> Self {
        self.sync_token = Some(sync_token.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.sync_token.is_some() && self.min_access_role.is_some() {
            return Err(Error::invalid_request("syncToken cannot be combined with minAccessRole"));
        }
        Ok(())
    }

    pub(crate) fn to_query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if let Some(value) = self.max_results {
            query.push(("maxResults", value.to_string()));
        }
        if let Some(value) = &self.min_access_role {
            query.push(("minAccessRole", value.clone()));
        }
        if let Some(value) = &self.page_token {
            query.push(("pageToken", value.clone()));
        }
        if let Some(value) = self.show_deleted {
            query.push(("showDeleted", value.to_string()));
        }
        if let Some(value) = self.show_hidden {
            query.push(("showHidden", value.to_string()));
        }
        if let Some(value) = &self.sync_token {
            query.push(("syncToken", value.clone()));
        }
        query
    }
}

/// Options of `events.insert`, `patch`, `update` and `delete` (`delete` uses only
/// `send_updates`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteParams {
    /// `sendUpdates`: who gets notification emails (Google's default: nobody for API writes).
    pub send_updates: Option<SendUpdates>,
    /// `conferenceDataVersion` (0 or 1): 1 to create or copy conference data.
    pub conference_data_version: Option<u8>,
    /// `maxAttendees` in the response.
    pub max_attendees: Option<u32>,
    /// `supportsAttachments`.
    pub supports_attachments: Option<bool>,
}

impl WriteParams {
    /// Google's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `sendUpdates`.
    pub fn with_send_updates(mut self, send_updates: SendUpdates) -> Self {
        self.send_updates = Some(send_updates);
        self
    }

    /// Sets `conferenceDataVersion`.
    pub fn with_conference_data_version(mut self, version: u8) -> Self {
        self.conference_data_version = Some(version);
        self
    }

    /// Sets `maxAttendees`.
    pub fn with_max_attendees(mut self, max_attendees: u32) -> Self {
        self.max_attendees = Some(max_attendees);
        self
    }

    /// Sets `supportsAttachments`.
    pub fn with_supports_attachments(mut self, supports: bool) -> Self {
        self.supports_attachments = Some(supports);
        self
    }

    pub(crate) fn to_query(&self, delete: bool) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if let Some(value) = self.send_updates {
            query.push(("sendUpdates", value.as_str().to_owned()));
        }
        if delete {
            return query;
        }
        if let Some(value) = self.conference_data_version {
            query.push(("conferenceDataVersion", value.to_string()));
        }
        if let Some(value) = self.max_attendees {
            query.push(("maxAttendees", value.to_string()));
        }
        if let Some(value) = self.supports_attachments {
            query.push(("supportsAttachments", value.to_string()));
        }
        query
    }
}

fn rfc3339(value: DateTime<Utc>) -> String {
    value.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_token_alone_or_with_allowed_filters_is_fine() {
        let params = EventListParams::new()
            .with_sync_token("tok")
            .with_single_events(true)
            .with_show_deleted(true)
            .with_max_results(10)
            .with_event_types([EventType::Default]);
        assert!(params.validate().is_ok());
    }

    #[test]
    fn each_forbidden_filter_is_named() {
        let base = EventListParams::new().with_sync_token("tok");
        let now = Utc::now();
        let cases = [
            (base.clone().with_ical_uid("x"), "iCalUID"),
            (base.clone().with_order_by(OrderBy::Updated), "orderBy"),
            (base.clone().with_private_extended_property("a", "b"), "privateExtendedProperty"),
            (base.clone().with_q("x"), "q"),
            (base.clone().with_shared_extended_property("a", "b"), "sharedExtendedProperty"),
            (base.clone().with_time_min(now), "timeMin"),
            (base.clone().with_time_max(now), "timeMax"),
            (base.clone().with_updated_min(now), "updatedMin"),
        ];
        for (params, name) in cases {
            let error = params.validate().unwrap_err();
            assert!(matches!(&error, Error::InvalidRequest { message } if message.contains(name)), "{error}");
        }
    }

    #[test]
    fn delete_sends_only_send_updates() {
        let params = WriteParams::new().with_send_updates(SendUpdates::ExternalOnly).with_max_attendees(3);
        assert_eq!(params.to_query(true), vec![("sendUpdates", "externalOnly".to_owned())]);
        assert_eq!(params.to_query(false).len(), 2);
    }
}
