//! OAuth scopes of the Calendar API, and the set this crate recommends.
//!
//! # Which scopes to ask for
//!
//! [`RECOMMENDED`] is the narrowest set that covers everything this crate calls for an app that
//! reads a user's events and free/busy and writes its own events:
//!
//! | Scope | Grants | Needed for |
//! |---|---|---|
//! | [`CALENDAR_EVENTS`] | view and edit events on all the user's calendars | `events.list` / `get` / `insert` / `patch` / `update` / `delete` / `watch` |
//! | [`CALENDAR_FREEBUSY`] | the user's availability on their calendars | `freeBusy.query` |
//! | [`CALENDAR_CALENDARLIST_READONLY`] | the list of calendars the user subscribes to | `calendarList.list` |
//!
//! `freeBusy.query` accepts only `calendar`, `calendar.readonly`, `calendar.events.freebusy` and
//! `calendar.freebusy`, and `calendarList.list` only `calendar`, `calendar.readonly`,
//! `calendar.calendarlist` and `calendar.calendarlist.readonly`: `calendar.events` alone covers
//! neither, which is why the set has three scopes rather than one. Asking for
//! [`CALENDAR_READONLY`] + [`CALENDAR_EVENTS`] would also work but grants more (calendar settings
//! and ACL-visible metadata of every calendar).
//!
//! Narrower still: [`CALENDAR_EVENTS_OWNED`] ("see, create, change and delete events on Google
//! calendars you own") instead of [`CALENDAR_EVENTS`], when the app never needs events of
//! calendars the user only subscribes to (free/busy still covers those); or
//! [`CALENDAR_APP_CREATED`] when the app writes only to a secondary calendar it creates itself.
//!
//! Google may grant fewer scopes than requested (the consent screen lets users untick them):
//! check [`TokenResponse::missing_scopes`](crate::TokenResponse::missing_scopes) after the code
//! exchange.

/// See, edit, share and permanently delete all calendars the user can access.
pub const CALENDAR: &str = "https://www.googleapis.com/auth/calendar";
/// See and download any calendar the user can access.
pub const CALENDAR_READONLY: &str = "https://www.googleapis.com/auth/calendar.readonly";
/// View and edit events on all the user's calendars.
pub const CALENDAR_EVENTS: &str = "https://www.googleapis.com/auth/calendar.events";
/// View events on all the user's calendars.
pub const CALENDAR_EVENTS_READONLY: &str = "https://www.googleapis.com/auth/calendar.events.readonly";
/// See, create, change and delete events on calendars the user owns.
pub const CALENDAR_EVENTS_OWNED: &str = "https://www.googleapis.com/auth/calendar.events.owned";
/// See the events on calendars the user owns.
pub const CALENDAR_EVENTS_OWNED_READONLY: &str =
    "https://www.googleapis.com/auth/calendar.events.owned.readonly";
/// See events on public calendars.
pub const CALENDAR_EVENTS_PUBLIC_READONLY: &str =
    "https://www.googleapis.com/auth/calendar.events.public.readonly";
/// See the availability on calendars the user has access to.
pub const CALENDAR_EVENTS_FREEBUSY: &str = "https://www.googleapis.com/auth/calendar.events.freebusy";
/// View the user's availability in their calendars.
pub const CALENDAR_FREEBUSY: &str = "https://www.googleapis.com/auth/calendar.freebusy";
/// See, add and remove calendars the user subscribes to.
pub const CALENDAR_CALENDARLIST: &str = "https://www.googleapis.com/auth/calendar.calendarlist";
/// See the list of calendars the user subscribes to.
pub const CALENDAR_CALENDARLIST_READONLY: &str =
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly";
/// See and change the properties of calendars the user has access to, and create secondary ones.
pub const CALENDAR_CALENDARS: &str = "https://www.googleapis.com/auth/calendar.calendars";
/// See the title, description, time zone and other properties of calendars the user has access to.
pub const CALENDAR_CALENDARS_READONLY: &str = "https://www.googleapis.com/auth/calendar.calendars.readonly";
/// Make secondary calendars, and see, create, change and delete events on them.
pub const CALENDAR_APP_CREATED: &str = "https://www.googleapis.com/auth/calendar.app.created";
/// See and change the sharing permissions of calendars the user owns.
pub const CALENDAR_ACLS: &str = "https://www.googleapis.com/auth/calendar.acls";
/// See the sharing permissions of calendars the user owns.
pub const CALENDAR_ACLS_READONLY: &str = "https://www.googleapis.com/auth/calendar.acls.readonly";
/// View the user's Calendar settings.
pub const CALENDAR_SETTINGS_READONLY: &str = "https://www.googleapis.com/auth/calendar.settings.readonly";

/// OpenID Connect: who the user is (adds an `id_token` to the token response).
pub const OPENID: &str = "openid";
/// The user's primary Google Account email address.
pub const USERINFO_EMAIL: &str = "https://www.googleapis.com/auth/userinfo.email";

/// Read events and free/busy, write the app's events, list calendars. See the module docs.
pub const RECOMMENDED: &[&str] = &[CALENDAR_EVENTS, CALENDAR_FREEBUSY, CALENDAR_CALENDARLIST_READONLY];
