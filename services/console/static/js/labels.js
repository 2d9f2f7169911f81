// Names of the API's enumerations (statuses, kinds, visibilities) in both languages, for every page.
import { translator } from './i18n.js';

export const labels = translator({
  zh: {
    status_draft: '草稿', status_uploading: '上传中', status_processing: '处理中', status_pending_review: '待审核',
    status_published: '已发布', status_rejected: '未通过', status_taken_down: '已下架', status_failed: '处理失败',
    kind_courseware: '课件', kind_lesson_recording: '课堂实录', kind_excellent_lesson: '优课', kind_micro_lesson: '微课',
    kind_exercise: '习题', kind_lesson_plan: '教案', kind_other: '其他',
    visibility_private: '仅自己', visibility_school: '本校', visibility_paired: '结对学校', visibility_district: '全区',
    visibility_public: '公开',
  },
  en: {
    status_draft: 'Draft', status_uploading: 'Uploading', status_processing: 'Processing',
    status_pending_review: 'Awaiting review', status_published: 'Published', status_rejected: 'Rejected',
    status_taken_down: 'Taken down', status_failed: 'Failed',
    kind_courseware: 'Courseware', kind_lesson_recording: 'Lesson recording', kind_excellent_lesson: 'Excellent lesson',
    kind_micro_lesson: 'Micro-lesson', kind_exercise: 'Exercise', kind_lesson_plan: 'Lesson plan', kind_other: 'Other',
    visibility_private: 'Only me', visibility_school: 'My school', visibility_paired: 'Paired schools',
    visibility_district: 'District', visibility_public: 'Public',
  },
});

export const KINDS = ['courseware', 'lesson_recording', 'excellent_lesson', 'micro_lesson', 'exercise', 'lesson_plan', 'other'];
export const VISIBILITIES = ['private', 'school', 'paired', 'district', 'public'];
export const STATUSES = ['draft', 'uploading', 'processing', 'pending_review', 'published', 'rejected', 'taken_down', 'failed'];
