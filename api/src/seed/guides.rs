//! A short starter guide in Vietnamese for each service of the catalogue, published by the department
//! that owns the service in the demo commune. Departments edit them into their own.

use chrono::NaiveDateTime;

use crate::db::materials::{self, Material, Version};
use crate::db::{self, DbConnection};

/// (service code, owning department, title, summary, Markdown body)
pub const GUIDES: [(&str, &str, &str, &str, &str); 16] = [
    (
        "vneid_level2",
        "police",
        "Đăng ký và kích hoạt tài khoản định danh điện tử mức 2 (VNeID)",
        "Công dân từ đủ 14 tuổi đăng ký tại Công an xã, sau đó kích hoạt trên ứng dụng VNeID.",
        "## Cần chuẩn bị\n- Căn cước (căn cước công dân gắn chip) còn hạn.\n- Điện thoại thông minh và số thuê bao chính chủ đang dùng.\n\n## Các bước\n1. Đến Công an xã; cán bộ thu nhận thông tin, chụp ảnh chân dung và lấy vân tay.\n2. Khi hồ sơ được duyệt, người dân nhận tin nhắn báo kích hoạt.\n3. Tải ứng dụng **VNeID** từ CH Play hoặc App Store, chọn *Kích hoạt tài khoản*, nhập số định danh cá nhân và số điện thoại.\n4. Nhập mã OTP, đặt mật khẩu và mã bảo vệ (passcode).\n\n## Lưu ý\n- Không đưa mật khẩu, mã OTP cho bất kỳ ai, kể cả người tự xưng là cán bộ.\n- Tài khoản mức 2 dùng để đăng nhập Cổng Dịch vụ công và nhiều ứng dụng khác.",
    ),
    (
        "public_service_portal",
        "service_center",
        "Nộp hồ sơ dịch vụ công trực tuyến",
        "Nộp hồ sơ trên Cổng Dịch vụ công quốc gia hoặc Cổng Dịch vụ công thành phố Hải Phòng, đăng nhập bằng VNeID.",
        "## Cần chuẩn bị\n- Tài khoản định danh điện tử mức 2 (VNeID).\n- Ảnh chụp hoặc bản điện tử các giấy tờ thủ tục yêu cầu.\n\n## Các bước\n1. Vào **dichvucong.gov.vn** (hoặc Cổng Dịch vụ công thành phố), chọn *Đăng nhập* bằng tài khoản VNeID.\n2. Tìm thủ tục cần làm, đọc kỹ thành phần hồ sơ.\n3. Điền tờ khai, đính kèm giấy tờ, kiểm tra và nộp.\n4. Ghi lại mã hồ sơ để tra cứu tình trạng giải quyết.\n\n## Lưu ý\n- Thông tin đã có trong Cơ sở dữ liệu quốc gia về dân cư thường không phải khai lại.\n- Cần hỗ trợ: đến Trung tâm phục vụ hành chính công xã.",
    ),
    (
        "online_fee_payment",
        "service_center",
        "Thanh toán phí, lệ phí trực tuyến",
        "Khi nộp hồ sơ trực tuyến, thanh toán phí, lệ phí ngay trên Cổng Dịch vụ công.",
        "## Các bước\n1. Ở bước thanh toán của hồ sơ, chọn *Thanh toán trực tuyến*.\n2. Chọn ngân hàng hoặc ví điện tử, quét mã QR hoặc đăng nhập ứng dụng ngân hàng.\n3. Xác nhận giao dịch bằng mã OTP hoặc sinh trắc học.\n4. Kiểm tra hồ sơ đã ghi nhận *Đã thanh toán*.\n\n## Lưu ý\n- Chỉ thanh toán trên Cổng Dịch vụ công, không chuyển khoản theo tin nhắn hay cuộc gọi lạ.",
    ),
    (
        "payment_account",
        "economy",
        "Mở tài khoản thanh toán không dùng tiền mặt",
        "Người từ đủ 15 tuổi có thể mở tài khoản ngân hàng trên điện thoại bằng căn cước gắn chip.",
        "## Cần chuẩn bị\n- Căn cước gắn chip, điện thoại có số thuê bao chính chủ.\n\n## Các bước\n1. Tải ứng dụng của ngân hàng người dân chọn.\n2. Chọn *Mở tài khoản*, chụp hai mặt căn cước, quét chip NFC nếu ứng dụng yêu cầu.\n3. Quay video khuôn mặt để xác thực, đặt tên đăng nhập và mật khẩu.\n\n## Lưu ý\n- Người chưa đủ 18 tuổi làm theo quy định riêng của từng ngân hàng.\n- Bật xác thực sinh trắc học; không cho người khác mượn tài khoản.",
    ),
    (
        "smart_haiphong",
        "culture_social",
        "Cài đặt và sử dụng ứng dụng Smart Hải Phòng",
        "Ứng dụng của thành phố để xem thông tin, phản ánh hiện trường và dùng các tiện ích đô thị thông minh.",
        "## Các bước\n1. Tìm **Smart Hải Phòng** trên CH Play hoặc App Store và cài đặt.\n2. Đăng nhập (có thể dùng tài khoản VNeID).\n3. Xem tin tức, tra cứu thông tin; dùng mục phản ánh để gửi ảnh và vị trí sự việc cần chính quyền xử lý.\n\n## Lưu ý\n- Phản ánh đúng sự việc, kèm ảnh rõ nét để được xử lý nhanh.",
    ),
    (
        "electronic_health_record",
        "health",
        "Sổ sức khỏe điện tử trên VNeID",
        "Xem thông tin khám chữa bệnh của bản thân trên ứng dụng VNeID.",
        "## Cần chuẩn bị\n- Tài khoản định danh điện tử mức 2 đã kích hoạt.\n\n## Các bước\n1. Mở ứng dụng **VNeID**, đăng nhập.\n2. Chọn *Ví giấy tờ* hoặc *Tiện ích*, rồi *Sổ sức khỏe điện tử*.\n3. Xem thông tin sức khỏe, lịch sử khám chữa bệnh được cơ sở y tế cập nhật.\n\n## Lưu ý\n- Thông tin chưa có hoặc chưa đúng: liên hệ Trạm Y tế xã để được hướng dẫn.",
    ),
    (
        "cashless_hospital_fees",
        "health",
        "Thanh toán viện phí không dùng tiền mặt",
        "Trả viện phí, tiền khám bằng mã QR, thẻ ngân hàng hoặc ví điện tử tại cơ sở y tế.",
        "## Các bước\n1. Khi thanh toán tại quầy, chọn hình thức quét mã QR hoặc quẹt thẻ.\n2. Mở ứng dụng ngân hàng hoặc ví điện tử, quét mã, kiểm tra số tiền và tên cơ sở y tế.\n3. Xác nhận giao dịch và giữ biên lai.\n\n## Lưu ý\n- Kiểm tra đúng tên đơn vị nhận tiền trước khi xác nhận.",
    ),
    (
        "cashless_tuition",
        "education",
        "Nộp học phí, các khoản thu không dùng tiền mặt",
        "Phụ huynh nộp học phí và các khoản thu của nhà trường qua ngân hàng hoặc ví điện tử.",
        "## Các bước\n1. Nhận thông báo khoản thu từ nhà trường (giấy báo, tin nhắn hoặc ứng dụng của trường).\n2. Mở ứng dụng ngân hàng hoặc ví điện tử, chọn mục thanh toán học phí hoặc quét mã QR trên thông báo.\n3. Nhập mã học sinh nếu được yêu cầu, kiểm tra tên học sinh và số tiền, xác nhận.\n\n## Lưu ý\n- Chỉ thanh toán theo thông báo chính thức của nhà trường; có thắc mắc hỏi giáo viên chủ nhiệm.",
    ),
    (
        "digital_signature",
        "service_center",
        "Chữ ký số cá nhân",
        "Chữ ký số giúp ký hồ sơ điện tử có giá trị pháp lý, dùng khi làm thủ tục trực tuyến.",
        "## Cần chuẩn bị\n- Căn cước gắn chip, điện thoại chính chủ.\n\n## Các bước\n1. Đăng ký dịch vụ chữ ký số (thường là chữ ký số từ xa trên điện thoại) với một tổ chức được cấp phép cung cấp dịch vụ chứng thực chữ ký số công cộng.\n2. Xác thực danh tính theo hướng dẫn của nhà cung cấp, cài ứng dụng ký số.\n3. Khi nộp hồ sơ trực tuyến, chọn *Ký số* và xác nhận trên điện thoại.\n\n## Lưu ý\n- Giữ bí mật mã PIN ký số như chữ ký tay của mình.",
    ),
    (
        "e_wallet",
        "economy",
        "Sử dụng ví điện tử an toàn",
        "Ví điện tử do Ngân hàng Nhà nước cấp phép giúp thanh toán hằng ngày, liên kết với tài khoản ngân hàng.",
        "## Các bước\n1. Cài ví điện tử đã được cấp phép (tải từ CH Play hoặc App Store).\n2. Đăng ký bằng số điện thoại chính chủ, xác thực bằng căn cước.\n3. Liên kết tài khoản ngân hàng để nạp, rút tiền.\n\n## Lưu ý\n- Không cung cấp mã OTP, mật khẩu; không bấm vào đường link lạ.\n- Kiểm tra lịch sử giao dịch thường xuyên.",
    ),
    (
        "e_commerce",
        "economy",
        "Bán hàng trên sàn thương mại điện tử",
        "Hộ sản xuất, kinh doanh mở gian hàng trên sàn thương mại điện tử để bán sản phẩm rộng rãi hơn.",
        "## Các bước\n1. Chọn sàn phù hợp và đăng ký tài khoản người bán bằng giấy tờ của hộ.\n2. Chụp ảnh sản phẩm rõ nét, viết mô tả đúng sự thật: nguồn gốc, khối lượng, hạn dùng.\n3. Cài đặt giá, phí vận chuyển và hình thức thanh toán.\n4. Theo dõi đơn hàng, trả lời khách đúng hẹn.\n\n## Lưu ý\n- Thực hiện nghĩa vụ thuế theo quy định; cần hỗ trợ liên hệ Phòng Kinh tế xã.",
    ),
    (
        "traceability",
        "economy",
        "Cấp mã truy xuất nguồn gốc trên haiphong.egap.vn",
        "Cơ sở sản xuất nông sản đăng ký trên hệ thống truy xuất nguồn gốc của thành phố để in tem QR cho sản phẩm.",
        "## Các bước\n1. Truy cập **haiphong.egap.vn**, đăng ký tài khoản cho cơ sở sản xuất.\n2. Khai báo thông tin cơ sở, vùng trồng hoặc chuồng trại, sản phẩm.\n3. Ghi nhật ký sản xuất theo từng lô.\n4. Tạo và in tem mã QR, dán lên bao bì sản phẩm.\n\n## Lưu ý\n- Thông tin trên tem phải đúng với thực tế sản xuất; Phòng Kinh tế xã hỗ trợ đăng ký.",
    ),
    (
        "ocop_ecommerce",
        "economy",
        "Đưa sản phẩm OCOP lên sàn thương mại điện tử",
        "Sản phẩm đã được công nhận OCOP nên có gian hàng trực tuyến để mở rộng thị trường.",
        "## Các bước\n1. Chuẩn bị giấy chứng nhận OCOP, ảnh sản phẩm và thông tin truy xuất nguồn gốc.\n2. Mở gian hàng trên sàn thương mại điện tử, ghi rõ hạng sao OCOP.\n3. Liên kết mã truy xuất nguồn gốc trên bao bì để người mua kiểm tra.\n\n## Lưu ý\n- Chỉ dùng biểu trưng OCOP cho đúng sản phẩm được công nhận, còn thời hạn.",
    ),
    (
        "land_procedures",
        "economy",
        "Làm thủ tục đất đai trực tuyến (Đề án 06)",
        "Nộp hồ sơ đăng ký biến động, cấp giấy chứng nhận quyền sử dụng đất qua Cổng Dịch vụ công.",
        "## Cần chuẩn bị\n- Tài khoản định danh điện tử mức 2.\n- Bản quét hoặc ảnh chụp giấy chứng nhận và giấy tờ liên quan.\n\n## Các bước\n1. Đăng nhập Cổng Dịch vụ công bằng VNeID.\n2. Tìm thủ tục đất đai cần làm, điền tờ khai và đính kèm giấy tờ.\n3. Nộp hồ sơ, thanh toán phí, lệ phí trực tuyến nếu có.\n4. Theo dõi kết quả bằng mã hồ sơ.\n\n## Lưu ý\n- Thông tin nhân thân được lấy từ Cơ sở dữ liệu quốc gia về dân cư, không phải nộp bản sao căn cước.",
    ),
    (
        "cashless_social_security",
        "culture_social",
        "Nhận trợ cấp an sinh xã hội qua tài khoản",
        "Người hưởng trợ cấp bảo trợ xã hội, người có công nhận tiền qua tài khoản ngân hàng thay cho tiền mặt.",
        "## Các bước\n1. Mở tài khoản thanh toán mang tên người hưởng.\n2. Cung cấp số tài khoản, tên ngân hàng cho Phòng Văn hóa – Xã hội xã.\n3. Hằng tháng kiểm tra tin nhắn báo tiền về tài khoản.\n\n## Lưu ý\n- Người cao tuổi nên có người thân tin cậy hướng dẫn; không đưa thẻ và mã PIN cho người khác.",
    ),
    (
        "information_portals",
        "culture_social",
        "Tra cứu thông tin trên cổng thông tin điện tử",
        "Theo dõi thông báo, văn bản của xã và thành phố trên cổng thông tin điện tử chính thức.",
        "## Các bước\n1. Mở trang thông tin điện tử của xã hoặc **haiphong.gov.vn**.\n2. Xem mục thông báo, văn bản, lịch tiếp công dân.\n3. Dùng ô tìm kiếm để tra cứu văn bản, thủ tục.\n\n## Lưu ý\n- Chỉ tin thông tin từ các trang chính thức của cơ quan nhà nước.",
    ),
];

/// Publishes the starter guides in `commune_id`, written by `author`.
pub fn seed_guides(
    conn: &mut DbConnection,
    commune_id: &str,
    author: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<usize> {
    for (code, department, title, summary, body) in GUIDES {
        let m = Material {
            id: db::new_id(),
            commune_id: Some(commune_id.to_owned()),
            department: department.to_owned(),
            status: "published".into(),
            latest_version: 1,
            published_version: Some(1),
            published_at: Some(now),
            created_by: author.to_owned(),
            created_at: now,
            updated_at: now,
        };
        let v = Version {
            material_id: m.id.clone(),
            version: 1,
            title: title.to_owned(),
            summary: summary.to_owned(),
            body: body.to_owned(),
            service_codes: serde_json::json!([code]).to_string(),
            attachment_ids: "[]".into(),
            author_id: author.to_owned(),
            created_at: now,
        };
        materials::insert(conn, &m, &v)?;
        crate::db::registry::record_change(
            conn,
            "material",
            &m.id,
            Some(commune_id),
            None,
            "upsert",
        )?;
    }
    Ok(GUIDES.len())
}

#[cfg(test)]
mod tests {
    use super::GUIDES;

    #[test]
    fn every_guide_names_a_service_of_its_department_once() {
        let mut codes: Vec<&str> = GUIDES.iter().map(|g| g.0).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), GUIDES.len());
        for (_, department, title, summary, body) in GUIDES {
            assert!(crate::domain::Department::parse(department).is_ok());
            assert!(!title.is_empty() && !summary.is_empty());
            assert!(body.contains("## "), "{title}");
        }
    }
}
