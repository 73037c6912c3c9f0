// Everything a language other than English needs, loaded only when it is chosen: AutoDB's
// messages and naive-ui's own strings and date names.
import { dateZhCN, zhCN } from 'naive-ui'
import messages from './zh-CN'

export default { messages, locale: zhCN, dateLocale: dateZhCN }
