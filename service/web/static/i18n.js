// Viewer-page texts in English, Russian, Chinese (simplified) and Kazakh (Cyrillic).

export const LANGUAGES = [
  { code: "en", label: "English" },
  { code: "ru", label: "Русский" },
  { code: "zh", label: "中文" },
  { code: "kk", label: "Қазақша" },
];

export const TEXTS = {
  en: {
    page_title: "Vote",
    language: "Language",
    your_country: "You are voting from",
    choose_country: "Choose the country you are voting from",
    change: "Change",
    loading: "Loading…",
    window_open: "Voting is open",
    window_closed: "Voting is closed",
    connecting: "Connecting…",
    votes_left: "{n} of {cap} votes left",
    vote: "Vote",
    sending: "Sending…",
    own_entry: "Your country — you can't vote for it",
    running_order: "No. {n}",
    vote_ok: "Vote for {name} counted. {n} left.",
    vote_duplicate: "That vote was already counted.",
    retrying: "Connection problem — trying again…",
    retry: "Try again",
    how_to: "Tap Vote for your favourite songs. You can vote more than once for a song.",
    errors: {
      window_closed: "Voting is closed right now. Wait until the host opens the lines.",
      own_country: "You can't vote for your own country's song.",
      unknown_entry: "That song is not in this contest.",
      vote_cap_reached: "You have used all your votes.",
      rate_limited: "Too many votes at once. Wait a moment and try again.",
      unauthorized: "Your voting session has expired. Reload the page.",
      unavailable: "Votes can't be taken right now, and this one was not counted. Please try again.",
      invalid_body: "The app sent a request the server did not understand. Reload the page.",
      network: "No connection. Check your internet and try again.",
      not_found: "This contest was not found.",
      unknown_country: "Votes can't be cast from that country.",
      forbidden: "Voting from this page is switched off. Please vote in the official app.",
      generic: "Something went wrong. Please try again.",
    },
  },
  ru: {
    page_title: "Голосование",
    language: "Язык",
    your_country: "Вы голосуете из",
    choose_country: "Выберите страну, из которой вы голосуете",
    change: "Изменить",
    loading: "Загрузка…",
    window_open: "Голосование открыто",
    window_closed: "Голосование закрыто",
    connecting: "Подключение…",
    votes_left: "Осталось голосов: {n} из {cap}",
    vote: "Голосовать",
    sending: "Отправка…",
    own_entry: "Ваша страна — за неё голосовать нельзя",
    running_order: "№ {n}",
    vote_ok: "Голос за {name} учтён. Осталось: {n}.",
    vote_duplicate: "Этот голос уже был учтён.",
    retrying: "Проблема со связью — пробуем ещё раз…",
    retry: "Повторить",
    how_to: "Нажмите «Голосовать» у любимых песен. За одну песню можно голосовать несколько раз.",
    errors: {
      window_closed: "Голосование сейчас закрыто. Дождитесь, когда ведущий его откроет.",
      own_country: "Нельзя голосовать за песню своей страны.",
      unknown_entry: "Такой песни нет в этом конкурсе.",
      vote_cap_reached: "Вы использовали все свои голоса.",
      rate_limited: "Слишком много голосов подряд. Подождите немного и попробуйте снова.",
      unauthorized: "Сеанс голосования истёк. Обновите страницу.",
      unavailable: "Сейчас голоса не принимаются, этот голос не засчитан. Попробуйте ещё раз.",
      invalid_body: "Приложение отправило запрос, который сервер не понял. Обновите страницу.",
      network: "Нет соединения. Проверьте интернет и попробуйте снова.",
      not_found: "Конкурс не найден.",
      unknown_country: "Из этой страны голосовать нельзя.",
      forbidden: "Голосование с этой страницы отключено. Голосуйте в официальном приложении.",
      generic: "Что-то пошло не так. Попробуйте ещё раз.",
    },
  },
  zh: {
    page_title: "投票",
    language: "语言",
    your_country: "您的投票地区",
    choose_country: "请选择您所在的投票国家或地区",
    change: "更改",
    loading: "加载中…",
    window_open: "投票进行中",
    window_closed: "投票已关闭",
    connecting: "正在连接…",
    votes_left: "剩余票数：{n} / {cap}",
    vote: "投票",
    sending: "正在发送…",
    own_entry: "这是您所在的国家，不能为其投票",
    running_order: "第 {n} 位",
    vote_ok: "已为{name}投出一票，剩余 {n} 票。",
    vote_duplicate: "这一票已经计入。",
    retrying: "网络连接有问题，正在重试…",
    retry: "重试",
    how_to: "点击“投票”支持您喜爱的歌曲。同一首歌可以投多票。",
    errors: {
      window_closed: "投票目前已关闭，请等待主持人开放投票。",
      own_country: "不能为您自己国家的歌曲投票。",
      unknown_entry: "本次比赛中没有这首歌曲。",
      vote_cap_reached: "您的票数已经用完。",
      rate_limited: "投票过于频繁，请稍候再试。",
      unauthorized: "投票会话已过期，请刷新页面。",
      unavailable: "暂时无法接收投票，这一票没有计入，请重试。",
      invalid_body: "应用发送了服务器无法识别的请求，请刷新页面。",
      network: "没有网络连接，请检查网络后重试。",
      not_found: "找不到该比赛。",
      unknown_country: "该国家或地区不能参与投票。",
      forbidden: "此页面的投票功能已关闭，请在官方应用中投票。",
      generic: "出现问题，请重试。",
    },
  },
  kk: {
    page_title: "Дауыс беру",
    language: "Тіл",
    your_country: "Сіз дауыс беретін ел",
    choose_country: "Дауыс беретін еліңізді таңдаңыз",
    change: "Өзгерту",
    loading: "Жүктелуде…",
    window_open: "Дауыс беру ашық",
    window_closed: "Дауыс беру жабық",
    connecting: "Қосылуда…",
    votes_left: "Қалған дауыстар: {n} / {cap}",
    vote: "Дауыс беру",
    sending: "Жіберілуде…",
    own_entry: "Бұл — сіздің еліңіз, оған дауыс беруге болмайды",
    running_order: "№ {n}",
    vote_ok: "{name} үшін дауыс есептелді. Қалды: {n}.",
    vote_duplicate: "Бұл дауыс бұрын есептелген.",
    retrying: "Байланыс ақауы — қайта жіберіп көреміз…",
    retry: "Қайталау",
    how_to: "Ұнаған әндеріңіз үшін «Дауыс беру» түймесін басыңыз. Бір әнге бірнеше рет дауыс беруге болады.",
    errors: {
      window_closed: "Дауыс беру қазір жабық. Жүргізуші ашқанша күтіңіз.",
      own_country: "Өз еліңіздің әніне дауыс беруге болмайды.",
      unknown_entry: "Бұл байқауда мұндай ән жоқ.",
      vote_cap_reached: "Сіз барлық дауыстарыңызды пайдаландыңыз.",
      rate_limited: "Дауыстар тым жиі жіберілуде. Біраз күтіп, қайталап көріңіз.",
      unauthorized: "Дауыс беру сеансының мерзімі өтті. Бетті жаңартыңыз.",
      unavailable: "Дауыстар қазір қабылданбайды, бұл дауыс есептелмеді. Қайталап көріңіз.",
      invalid_body: "Қолданба сервер түсінбеген сұрау жіберді. Бетті жаңартыңыз.",
      network: "Байланыс жоқ. Интернетті тексеріп, қайталап көріңіз.",
      not_found: "Байқау табылмады.",
      unknown_country: "Бұл елден дауыс беруге болмайды.",
      forbidden: "Бұл беттен дауыс беру өшірілген. Ресми қосымшада дауыс беріңіз.",
      generic: "Бір нәрсе дұрыс болмады. Қайталап көріңіз.",
    },
  },
};

/** The first supported language among the browser's preferences (default English). */
export function browserLanguage(preferences = navigator.languages || [navigator.language]) {
  for (const tag of preferences) {
    const base = String(tag || "").toLowerCase().split("-")[0];
    if (base in TEXTS) return base;
  }
  return "en";
}

/** t(lang, "votes_left", {n: 3, cap: 20}) */
export function t(lang, key, vars = {}) {
  const table = TEXTS[lang] || TEXTS.en;
  const template = table[key] ?? TEXTS.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** The message for an API error code, in `lang`. */
export function errorText(lang, code) {
  const table = (TEXTS[lang] || TEXTS.en).errors;
  return table[code] || table.generic;
}
