//! The stored codes of field work (how a visit was made, what came of it, how a communication went
//! out, where a difficulty stands, how a training was held): one enum each, parsed once, with the
//! Vietnamese name that files people read (CSV, XLSX exports) show instead of the code. The web
//! app has the same names in its translations (`pwa/src/lib/i18n/`).

/// Declares a closed set of stored codes with their Vietnamese names.
macro_rules! codes {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal => $vi:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code as stored and as the API speaks it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// The name a person reads.
            pub fn name_vi(self) -> &'static str {
                match self {
                    $($name::$variant => $vi),+
                }
            }

            /// `None` for a code this version does not know.
            pub fn parse(raw: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == raw)
            }

            /// Every code, for "one of …" messages.
            pub fn codes() -> String {
                Self::ALL
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }

            /// The name of a stored code, for a file people read (a code this version does not
            /// know stays as it is rather than being shown as another one).
            pub fn label_vi(raw: &str) -> String {
                Self::parse(raw).map_or_else(|| raw.to_owned(), |v| v.name_vi().to_owned())
            }
        }
    };
}

codes!(
    /// How a volunteer helped a household.
    Channel {
        HouseVisit = "house_visit" => "Đến tận nhà",
        CommunityMeeting = "community_meeting" => "Họp thôn, sinh hoạt cộng đồng",
        CommuneOffice = "commune_office" => "Tại trụ sở xã",
        PhoneOnline = "phone_online" => "Qua điện thoại, trực tuyến",
    }
);

codes!(
    /// What came of helping someone with one service.
    Outcome {
        Done = "done" => "Đã xong",
        Assisted = "assisted" => "Đã hướng dẫn, chưa xong",
        Declined = "declined" => "Người dân từ chối",
        NeedsFollowUp = "needs_follow_up" => "Cần hỗ trợ tiếp",
    }
);

codes!(
    /// How a communication (tuyên truyền) reached people.
    CommunicationChannel {
        Loudspeaker = "loudspeaker" => "Loa truyền thanh",
        Zalo = "zalo" => "Zalo",
        Facebook = "facebook" => "Facebook",
        Meeting = "meeting" => "Hội nghị, cuộc họp",
        CommunityEvent = "community_event" => "Sự kiện cộng đồng",
        Leaflet = "leaflet" => "Tờ rơi",
        Other = "other" => "Khác",
    }
);

codes!(
    /// Where a difficulty raised by a team stands.
    DifficultyStatus {
        Open = "open" => "Chờ trả lời",
        Answered = "answered" => "Đã trả lời",
        Closed = "closed" => "Đã đóng",
    }
);

codes!(
    /// How a training was held.
    TrainingMode {
        InPerson = "in_person" => "Trực tiếp",
        Online = "online" => "Trực tuyến",
        Mixed = "mixed" => "Kết hợp",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_ones_are_not_guessed() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(*c));
        }
        assert_eq!(Outcome::parse("done"), Some(Outcome::Done));
        assert_eq!(Outcome::parse("Done"), None);
        assert_eq!(
            Channel::codes(),
            "house_visit, community_meeting, commune_office, phone_online"
        );
        assert_eq!(DifficultyStatus::label_vi("answered"), "Đã trả lời");
        assert_eq!(TrainingMode::label_vi("hybrid"), "hybrid");
    }
}
